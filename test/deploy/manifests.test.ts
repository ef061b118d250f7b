import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { runCli } from "../../src/cli/index.ts";
import { configVariables, loadConfig } from "../../src/config.ts";
import { migrationsFolder } from "../../src/db/migrate.ts";
import { createLogger } from "../../src/logger.ts";
import { createMetrics } from "../../src/metrics.ts";
import { createApp } from "../../src/server/app.ts";

/**
 * The deployment files can't be run here (no Docker engine, no cluster), so these tests hold them to
 * what the code says: variable names, commands, routes, ports and paths. Each check reads the
 * service's own definitions rather than a copy, so a change on either side shows up as a failure.
 */

const root = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

const defaults = loadConfig({});
const knownVariables = new Set(configVariables);

afterEach(() => {
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
// The command line

const cliVerdicts = new Map<string, boolean>();

/** Whether `topicops <command>` is a command that starts something (not help, not unknown). */
async function cliRuns(command: string): Promise<boolean> {
  const cached = cliVerdicts.get(command);
  if (cached !== undefined) return cached;
  const errors: string[] = [];
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    errors.push(args.map(String).join(" "));
  });
  vi.spyOn(console, "log").mockImplementation(() => {});
  // An invalid PORT stops every real command at configuration, before it connects to anything.
  const code = await runCli([command], { PORT: "not-a-port" });
  vi.restoreAllMocks();
  const verdict = code === 2 && errors.some((e) => e.startsWith(`topicops ${command}: Configuration is invalid`));
  cliVerdicts.set(command, verdict);
  return verdict;
}

// ---------------------------------------------------------------------------------------------
// The HTTP routes, from the app itself

function routesApp() {
  return createApp({
    logger: createLogger({ level: "silent" }),
    metrics: createMetrics({ defaultMetrics: false }),
    hooks: { hookToken: "deploy-test-hook-token-0123456789", maxBytes: 1024, ingest: {} as never },
    readiness: { postgres: async () => 1, redis: async () => "PONG" },
    telegramWebhook: (c) => c.body(null, 200),
  });
}

async function status(method: "GET" | "POST", path: string): Promise<number> {
  const res = await routesApp().request(path, { method, ...(method === "POST" ? { body: "{}" } : {}) });
  return res.status;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}

function dockerfile(): Instruction[] {
  const joined = read("Dockerfile")
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(" ") };
    });
}

function jsonForm(instructions: Instruction[], keyword: string): string[] {
  const found = instructions.filter((i) => i.keyword === keyword);
  expect(found, `one ${keyword}`).toHaveLength(1);
  return JSON.parse(found[0]!.args) as string[];
}

/** COPY sources and destination, without flags. */
function copies(instructions: Instruction[]): { index: number; sources: string[]; dest: string }[] {
  return instructions.flatMap((i, index) => {
    if (i.keyword !== "COPY") return [];
    const parts = i.args.split(/\s+/).filter((p) => !p.startsWith("--"));
    return [{ index, sources: parts.slice(0, -1), dest: parts.at(-1)! }];
  });
}

/** Docker's wildcards (*, ?, [...]) as a regular expression over a whole path. */
function globRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*" && pattern[i + 1] === "*") {
      out += ".*";
      i++;
      if (pattern[i + 1] === "/") i++;
    } else if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i);
      out += pattern.slice(i, end + 1);
      i = end;
    } else out += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

const runtimeDirs = ["src", "bin", "drizzle", "topics", "runbooks"];

describe("Dockerfile", () => {
  const instructions = dockerfile();
  const workdir = instructions.filter((i) => i.keyword === "WORKDIR").at(-1)?.args ?? "/";

  it("runs bin/topicops.js as the node user, with a default command the CLI knows", async () => {
    expect(jsonForm(instructions, "ENTRYPOINT")).toEqual(["node", "bin/topicops.js"]);
    expect(existsSync(join(root, "bin/topicops.js"))).toBe(true);
    const cmd = jsonForm(instructions, "CMD");
    expect(cmd).toEqual(["serve"]);
    expect(await cliRuns(cmd[0]!)).toBe(true);
    expect(instructions.filter((i) => i.keyword === "USER").at(-1)?.args).toBe("node");
    // The check itself must be able to tell a known command from the rest.
    expect(await cliRuns("help")).toBe(false);
    expect(await cliRuns("serv")).toBe(false);
  });

  it("copies every directory the service reads at run time, after installing production dependencies", () => {
    const copied = copies(instructions);
    for (const dir of runtimeDirs) {
      const copy = copied.find((c) => c.sources.some((s) => globRegExp(s.replace(/\/$/, "")).test(dir)));
      expect(copy, `COPY of ${dir}/`).toBeDefined();
      expect(posix.normalize(posix.join(workdir, copy!.dest)).replace(/\/$/, ""), `${dir}/ lands in ${workdir}/${dir}`).toBe(
        posix.join(workdir, dir),
      );
    }
    // Those are the directories the code and the defaults name.
    expect(relative(root, migrationsFolder)).toBe("drizzle");
    expect(posix.normalize(defaults.topicsDir)).toBe("topics");
    expect(posix.normalize(defaults.runbooksDir)).toBe("runbooks");

    const install = instructions.findIndex((i) => i.keyword === "RUN" && /\bnpm ci\b/.test(i.args));
    expect(instructions[install]?.args).toMatch(/npm ci\b.*--omit=dev/);
    const manifests = copied.find((c) => c.sources.includes("package.json") && c.sources.includes("package-lock.json"));
    expect(manifests!.index).toBeLessThan(install);
    // Code changes must not invalidate the dependency layer.
    for (const dir of runtimeDirs) {
      const copy = copied.find((c) => c.sources.some((s) => globRegExp(s.replace(/\/$/, "")).test(dir)))!;
      expect(copy.index, `${dir}/ is copied after npm ci`).toBeGreaterThan(install);
    }
  });

  it("gets everything the code imports from `npm ci --omit=dev`", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    const files = [...walk(join(root, "src")), ...walk(join(root, "bin"))].filter((f) => /\.(ts|js)$/.test(f));
    const imported = new Set<string>();
    for (const file of files) {
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (/^\s*import\s+type\b/.test(line)) continue;
        for (const m of line.matchAll(/(?:from\s+|import\s*\(\s*|^\s*import\s+)["']([^"'.][^"']*)["']/g)) {
          const spec = m[1]!;
          if (spec.startsWith("node:")) continue;
          imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
        }
      }
    }
    expect(imported).toContain("tsx");
    expect([...imported].filter((name) => !(name in pkg.dependencies))).toEqual([]);
  });

  it("checks health on /healthz at the port the service listens on by default", async () => {
    const healthcheck = instructions.find((i) => i.keyword === "HEALTHCHECK")!.args;
    expect(healthcheck).toContain("/healthz");
    expect(healthcheck).toContain(`process.env.PORT || ${defaults.port}`);
    expect(await status("GET", "/healthz")).toBe(200);
    expect(instructions.find((i) => i.keyword === "EXPOSE")?.args).toBe(String(defaults.port));
  });

  it(".dockerignore lets in what the image copies and keeps out .env, .git and node_modules", () => {
    const rules = read(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => ({ negate: l.startsWith("!"), re: globRegExp(l.replace(/^!/, "").replace(/\/$/, "")) }));
    const excluded = (path: string) => {
      let out = false;
      const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
      for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) out = !rule.negate;
      return out;
    };
    for (const dir of runtimeDirs) expect(excluded(`${dir}/some-file`), dir).toBe(false);
    expect(excluded("package.json")).toBe(false);
    expect(excluded("package-lock.json")).toBe(false);
    for (const path of [".env", ".git/HEAD", "node_modules/tsx/package.json", "test/deploy/manifests.test.ts"]) {
      expect(excluded(path), path).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  env_file?: string | string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string; disable?: boolean };
}

const composeText = read("docker-compose.yml");
const compose = parse(composeText) as { services: Record<string, ComposeService> };
const topicops = compose.services["topicops"]!;

/** The commented example .env at the top of the file: what an operator copies. */
const exampleEnv: Record<string, string> = Object.fromEntries(
  composeText
    .split("\n")
    .flatMap((line) => {
      const m = /^#\s+(?:#\s+)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      return m ? [[m[1]!, m[2]!.trim()] as const] : [];
    }),
);
const composeOnly = new Set(["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"]);

/** Compose's ${VAR}, ${VAR:-default} and $$, with `env` as the .env file. */
function interpolate(value: string, env: Record<string, string>): string {
  return value
    .replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_, name: string, fallback: string | undefined) => env[name] || (fallback ?? ""))
    .replace(/\$\$/g, "$");
}

const composeEnv = (service: ComposeService, env: Record<string, string>) =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ""), env)]));

const argv = (command: string[] | string | undefined) => (Array.isArray(command) ? command : (command ?? "").split(/\s+/).filter(Boolean));

describe("docker-compose.yml", () => {
  it("runs topicops with a command the CLI knows and only variables config.ts defines, and they validate", async () => {
    expect(topicops.build).toBe(".");
    const command = argv(topicops.command);
    expect(command).toEqual(["serve"]);
    expect(await cliRuns(command[0]!)).toBe(true);

    const names = Object.keys(topicops.environment ?? {});
    expect(names.filter((n) => !knownVariables.has(n))).toEqual([]);
    // The example must show what `serve` cannot start without.
    expect(Object.keys(exampleEnv)).toEqual(expect.arrayContaining(["TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID", "HOOK_TOKEN", "APPROVER_IDS"]));
    expect(Object.keys(exampleEnv).filter((n) => !knownVariables.has(n) && !composeOnly.has(n))).toEqual([]);
    expect(topicops.env_file).toBe(".env");

    // What the container gets: the .env file, then `environment`, which wins.
    const config = loadConfig({ ...exampleEnv, ...composeEnv(topicops, exampleEnv) }, ["telegram", "hooks"]);
    expect(config.topicsDir).toBe("/config/topics");
  });

  it("points topicops at the other services by their compose names, and waits for the ones with health checks", () => {
    const env = composeEnv(topicops, exampleEnv);
    const hostOf = (name: string) => new URL(env[name]!).hostname;
    const expected: Record<string, string> = { DATABASE_URL: "postgres", REDIS_URL: "redis", QDRANT_URL: "qdrant", OLLAMA_HOST: "ollama" };
    for (const [variable, service] of Object.entries(expected)) {
      expect(hostOf(variable), variable).toBe(service);
      expect(compose.services[service], service).toBeDefined();
      const condition = topicops.depends_on?.[service]?.condition;
      expect(condition, `depends_on ${service}`).toBe(compose.services[service]!.healthcheck ? "service_healthy" : "service_started");
    }
    // The database URL and the Postgres container agree on user, password and database.
    const db = new URL(env["DATABASE_URL"]!);
    const postgres = composeEnv(compose.services["postgres"]!, exampleEnv);
    expect([db.username, db.password, db.pathname.slice(1)]).toEqual([postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"]]);
    expect(db.port).toBe("5432");
    expect(new URL(env["REDIS_URL"]!).port).toBe("6379");
  });

  it("publishes the port topicops listens on, and mounts topics and runbooks read-only where it reads them", () => {
    const env = composeEnv(topicops, exampleEnv);
    const port = Number(env["PORT"] ?? defaults.port);
    expect(topicops.ports?.map((p) => Number(p.split(":").at(-1)))).toEqual([port]);

    const config = loadConfig({ ...exampleEnv, ...env }, ["telegram", "hooks"]);
    for (const [dir, hostDefault] of [
      [config.topicsDir, defaults.topicsDir],
      [config.runbooksDir, defaults.runbooksDir],
    ] as const) {
      const mount = topicops.volumes?.map((v) => v.split(":")).find(([, target]) => target === dir);
      expect(mount, `a volume at ${dir}`).toBeDefined();
      // The same directory the service uses when run from a checkout.
      expect(posix.normalize(mount![0]!)).toBe(posix.normalize(hostDefault));
      expect(mount![2]).toBe("ro");
    }
  });

  it("runs Redis with noeviction and AOF, on a volume", () => {
    const redis = compose.services["redis"]!;
    const command = argv(redis.command);
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(command[0]).toBe("redis-server");
    expect(flag("--maxmemory-policy")).toBe("noeviction");
    expect(flag("--appendonly")).toBe("yes");
    expect(redis.volumes?.some((v) => v.split(":")[1] === "/data")).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// k8s/

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  periodSeconds?: number;
  timeoutSeconds?: number;
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string; optional?: boolean } }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; generateName?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    ports?: { name?: string; port: number; targetPort: number | string }[];
    rules?: { host?: string; http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[];
    endpoints?: { port: string; path: string }[];
  };
  stringData?: Record<string, string>;
}
interface Kustomization {
  kind: string;
  resources?: string[];
  components?: string[];
  patches?: { path?: string }[];
  images?: { name: string }[];
  configMapGenerator?: { name: string; behavior?: string; literals?: string[] }[];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const k8sDir = join(root, "k8s");
const yamlFiles = walk(k8sDir).filter((f) => /\.ya?ml$/.test(f));
const docsByFile = new Map(
  yamlFiles.map((file) => {
    const docs = parseAllDocuments(readFileSync(file, "utf8"));
    return [relative(k8sDir, file), docs] as const;
  }),
);
const objectsOf = (file: string) => (docsByFile.get(file) ?? []).map((d) => d.toJS() as Manifest | null).filter((o): o is Manifest => !!o);
const manifests = [...docsByFile.keys()].filter((f) => !/(^|\/)kustomization\.ya?ml$/.test(f)).flatMap((file) => objectsOf(file).map((m) => ({ file, m })));
const kustomization = (dir: string) => parse(readFileSync(join(k8sDir, dir, "kustomization.yaml"), "utf8")) as Kustomization;
const base = kustomization(".");
const component = kustomization("components/config-files");

const literals = (k: Kustomization, name: string) =>
  Object.fromEntries(
    (k.configMapGenerator ?? [])
      .filter((g) => g.name === name)
      .flatMap((g) => g.literals ?? [])
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

const workloads = manifests.filter(({ m }) => ["Deployment", "Job"].includes(m.kind) && m.spec?.template?.spec.containers.some((c) => c.image));
const deployment = (name: string) => workloads.find(({ m }) => m.kind === "Deployment" && m.metadata.name === name)!.m;
const secretExample = objectsOf("secret.example.yaml").find((m) => m.kind === "Secret")!;

/** Every variable a container sees, as names (values where they are plain). */
function containerEnv(c: Container): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, literals(base, from.configMapRef.name));
    if (from.secretRef) Object.assign(env, secretExample.stringData);
  }
  for (const e of c.env ?? []) env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? secretExample.stringData?.[e.valueFrom.secretKeyRef.key] : undefined);
  return env;
}

function resolvePort(c: Container, port: number | string): number | undefined {
  return typeof port === "number" ? c.ports?.find((p) => p.containerPort === port)?.containerPort : c.ports?.find((p) => p.name === port)?.containerPort;
}

describe("k8s/", () => {
  it("parses, and every file is part of the kustomize build or named *.example.yaml", () => {
    expect(yamlFiles.length).toBeGreaterThan(0);
    for (const [file, docs] of docsByFile) {
      for (const doc of docs) expect(doc.errors.map((e) => `${file}: ${e.message}`)).toEqual([]);
    }
    const used = new Set<string>();
    const visit = (dir: string) => {
      const k = kustomization(dir);
      used.add(posix.join(dir, "kustomization.yaml"));
      for (const r of k.resources ?? []) used.add(posix.join(dir, r));
      for (const p of k.patches ?? []) if (p.path) used.add(posix.join(dir, p.path));
      for (const c of k.components ?? []) visit(posix.join(dir, c));
    };
    visit(".");
    // The component is off by default: it is enabled by uncommenting it in the base.
    visit("components/config-files");
    const orphans = [...docsByFile.keys()].filter((f) => !used.has(posix.normalize(f)) && !f.endsWith(".example.yaml"));
    expect(orphans).toEqual([]);
  });

  it("kustomization resources, patches and components exist, and examples are left out", () => {
    expect(base.kind).toBe("Kustomization");
    for (const r of base.resources ?? []) expect(existsSync(join(k8sDir, r)), r).toBe(true);
    expect((base.resources ?? []).filter((r) => r.endsWith(".example.yaml"))).toEqual([]);
    expect(component.kind).toBe("Component");
    for (const p of component.patches ?? []) expect(existsSync(join(k8sDir, "components/config-files", p.path!)), p.path).toBe(true);
    // The commented-out `components:` entry in the base names a component that is there.
    const suggested = [...read("k8s/kustomization.yaml").matchAll(/^#\s+-\s+(components\/\S+)/gm)].map((m) => m[1]!);
    expect(suggested).toEqual(["components/config-files"]);
    for (const dir of suggested) expect(existsSync(join(k8sDir, dir, "kustomization.yaml")), dir).toBe(true);
    // Every container image is the one `images:` rewrites.
    const images = new Set((base.images ?? []).map((i) => i.name));
    for (const { file, m } of workloads.filter(({ file }) => !file.endsWith(".example.yaml"))) {
      for (const c of m.spec!.template!.spec.containers) expect(images.has(c.image!), `${file}: ${c.image}`).toBe(true);
    }
  });

  it("runs web and worker apart, and every container runs a command the CLI knows", async () => {
    expect(deployment("topicops-web").spec!.template!.spec.containers[0]!.args).toEqual(["web"]);
    expect(deployment("topicops-worker").spec!.template!.spec.containers[0]!.args).toEqual(["worker"]);
    for (const { file, m } of workloads) {
      for (const c of m.spec!.template!.spec.containers) {
        // `command` would replace the image's entrypoint; the subcommand goes in `args`.
        expect(c.command, `${file}: ${c.name}`).toBeUndefined();
        expect(await cliRuns(c.args![0]!), `${file}: ${c.args![0]}`).toBe(true);
      }
    }
  });

  it("never lets more than one replica long-poll Telegram: those that receive updates need the webhook settings", () => {
    const receiving = workloads.filter(({ m }) => m.kind === "Deployment" && m.spec!.template!.spec.containers.some((c) => ["web", "serve"].includes(c.args![0]!)));
    expect(receiving.length).toBeGreaterThan(0);
    for (const { file, m } of receiving) {
      if ((m.spec!.replicas ?? 1) <= 1) continue;
      const c = m.spec!.template!.spec.containers[0]!;
      for (const name of ["PUBLIC_URL", "TELEGRAM_WEBHOOK_SECRET"]) {
        const ref = c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
        expect(ref, `${file}: ${name} from the Secret`).toBeDefined();
        expect(ref!.optional ?? false, `${file}: ${name} required`).toBe(false);
        expect(secretExample.stringData, name).toHaveProperty(ref!.key);
      }
      expect(loadConfig(containerEnv(c), ["telegram", "hooks"]).publicUrl).toBeDefined();
    }
  });

  it("sets only variables config.ts defines, and the example Secret and settings validate", () => {
    const names = new Set<string>();
    for (const k of [base, component]) for (const g of k.configMapGenerator ?? []) for (const l of g.literals ?? []) names.add(l.split("=")[0]!);
    for (const { m } of manifests) {
      for (const c of m.spec?.template?.spec.containers ?? []) {
        for (const e of c.env ?? []) {
          names.add(e.name);
          if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.key);
        }
      }
    }
    const secretKeys = Object.keys(secretExample.stringData ?? {});
    for (const key of secretKeys) names.add(key);
    expect([...names].filter((n) => !knownVariables.has(n))).toEqual([]);

    // The `kubectl create secret` command in the example creates exactly the keys it shows.
    const fromLiterals = [...read("k8s/secret.example.yaml").matchAll(/--from-literal=([A-Z0-9_]+)=/g)].map((m) => m[1]!);
    expect(fromLiterals.sort()).toEqual([...secretKeys].sort());

    // Every topicops container, with the example Secret, has a configuration that loads.
    for (const { file, m } of workloads.filter(({ file }) => !file.endsWith(".example.yaml"))) {
      const c = m.spec!.template!.spec.containers[0]!;
      expect(() => loadConfig(containerEnv(c), ["telegram", "hooks"]), file).not.toThrow();
    }
  });

  it("probes and scrape paths are routes the app serves, on the port it listens on", async () => {
    let probes = 0;
    for (const { file, m } of workloads) {
      const pod = m.spec!.template!;
      for (const c of pod.spec.containers) {
        const port = Number(containerEnv(c)["PORT"] ?? defaults.port);
        for (const p of c.ports ?? []) expect(p.containerPort, `${file}: containerPort is PORT`).toBe(port);
        for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
          if (!probe?.httpGet) continue;
          probes++;
          expect(resolvePort(c, probe.httpGet.port), `${file}: probe port`).toBe(port);
          expect(await status("GET", probe.httpGet.path), `${file}: GET ${probe.httpGet.path}`).toBe(200);
        }
        const annotations = pod.metadata?.annotations ?? {};
        if (annotations["prometheus.io/scrape"] === "true") {
          expect(Number(annotations["prometheus.io/port"])).toBe(port);
          expect(await status("GET", annotations["prometheus.io/path"]!)).toBe(200);
        }
      }
    }
    expect(probes).toBeGreaterThanOrEqual(3);
    // Liveness must not depend on Postgres or Redis (an outage would restart every pod); readiness must.
    const web = deployment("topicops-web").spec!.template!.spec.containers[0]!;
    expect(web.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(web.readinessProbe?.httpGet?.path).toBe("/readyz");
    // /readyz gives each dependency 2 s; a shorter probe timeout would fail a healthy pod.
    expect(web.readinessProbe?.timeoutSeconds ?? 1).toBeGreaterThan(2);
    // The worker serves health and metrics too: a hung one is restarted, and it is scraped.
    const worker = deployment("topicops-worker").spec!.template!;
    expect(worker.spec.containers[0]!.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(worker.metadata!.annotations?.["prometheus.io/path"]).toBe("/metrics");
    const monitor = objectsOf("servicemonitor.example.yaml")[0]!;
    for (const endpoint of monitor.spec!.endpoints!) expect(await status("GET", endpoint.path)).toBe(200);
  });

  it("the Service, Ingress, PodDisruptionBudgets and ServiceMonitor select what they are meant to", () => {
    const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
      !!selector && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
    const web = deployment("topicops-web");
    const service = manifests.find(({ m }) => m.kind === "Service")!.m;
    expect(selects(service.spec!.selector, web.spec!.template!.metadata!.labels)).toBe(true);
    const webContainer = web.spec!.template!.spec.containers[0]!;
    for (const p of service.spec!.ports!) expect(resolvePort(webContainer, p.targetPort), `targetPort ${p.targetPort}`).toBeDefined();
    expect(service.spec!.ports!.map((p) => p.port)).toEqual([80]);

    const ingress = manifests.find(({ m }) => m.kind === "Ingress")!.m;
    for (const rule of ingress.spec!.rules!) {
      for (const path of rule.http.paths) {
        expect(path.backend.service.name).toBe(service.metadata.name);
        expect(service.spec!.ports!.some((p) => p.name === path.backend.service.port.name)).toBe(true);
      }
    }
    const monitor = objectsOf("servicemonitor.example.yaml")[0]!;
    expect(selects(monitor.spec!.selector!.matchLabels, service.metadata.labels)).toBe(true);
    expect(service.spec!.ports!.some((p) => p.name === monitor.spec!.endpoints![0]!.port)).toBe(true);

    const pdbs = manifests.filter(({ m }) => m.kind === "PodDisruptionBudget").map(({ m }) => m);
    for (const name of ["topicops-web", "topicops-worker"]) {
      const labels = deployment(name).spec!.template!.metadata!.labels;
      expect(pdbs.filter((pdb) => selects(pdb.spec!.selector!.matchLabels, labels)), name).toHaveLength(1);
      expect(selects(deployment(name).spec!.selector!.matchLabels, labels)).toBe(true);
    }
  });

  it("the Ingress exposes only /hooks and /telegram, both routes of the app, and lets a full-size hook through", async () => {
    const ingress = manifests.find(({ m }) => m.kind === "Ingress")!.m;
    const paths = ingress.spec!.rules!.flatMap((r) => r.http.paths.map((p) => p.path));
    expect(paths.sort()).toEqual(["/hooks", "/telegram"]);
    // 404 is what the app says for a path it does not serve; anything else means the route is there.
    expect(await status("POST", "/nope")).toBe(404);
    expect(await status("POST", "/hooks/alertmanager")).not.toBe(404);
    expect(await status("POST", "/telegram")).not.toBe(404);
    const bodySize = ingress.metadata.annotations?.["nginx.ingress.kubernetes.io/proxy-body-size"] ?? "1m";
    const m = /^(\d+)([kmg]?)$/i.exec(bodySize)!;
    const bytes = Number(m[1]) * 1024 ** " kmg".indexOf((m[2] || " ").toLowerCase());
    expect(bytes).toBeGreaterThan(defaults.hookMaxBytes);
  });

  it("TOPICS_DIR and RUNBOOKS_DIR point at the image's copies, or with the component at its mounts", () => {
    const workdir = dockerfile().filter((i) => i.keyword === "WORKDIR").at(-1)!.args;
    const env = literals(base, "topicops-env");
    expect(env["TOPICS_DIR"]).toBe(posix.join(workdir, "topics"));
    expect(env["RUNBOOKS_DIR"]).toBe(posix.join(workdir, "runbooks"));

    const merged = component.configMapGenerator!.find((g) => g.name === "topicops-env")!;
    expect(merged.behavior).toBe("merge");
    const overrides = literals(component, "topicops-env");
    const patch = objectsOf(posix.join("components/config-files", component.patches![0]!.path!))[0]!;
    const mounts = patch.spec!.template!.spec.containers[0]!.volumeMounts!;
    const volumes = patch.spec!.template!.spec.volumes!;
    for (const [variable, configMap] of [
      ["TOPICS_DIR", "topicops-topics"],
      ["RUNBOOKS_DIR", "topicops-runbooks"],
    ] as const) {
      const mount = mounts.find((vm) => vm.mountPath === overrides[variable]);
      expect(mount, `${variable} is a mount`).toBeDefined();
      expect(volumes.find((v) => v.name === mount!.name)?.configMap?.name).toBe(configMap);
    }
    // Without topics there is no default topic and the service refuses to start: that one is required.
    expect(volumes.find((v) => v.configMap?.name === "topicops-topics")?.configMap?.optional ?? false).toBe(false);
    // The patched container is the one the Deployments run.
    for (const name of ["topicops-web", "topicops-worker"]) {
      expect(deployment(name).spec!.template!.spec.containers.map((c) => c.name)).toContain(patch.spec!.template!.spec.containers[0]!.name);
    }
  });

  it("pods run as a non-root user with a read-only root, no capabilities, a writable /tmp and resource limits", () => {
    for (const { file, m } of workloads) {
      const spec = m.spec!.template!.spec;
      expect(spec.securityContext?.runAsNonRoot, file).toBe(true);
      // Numeric: the kubelet cannot verify that the image's user *name* is not root.
      expect(spec.securityContext?.runAsUser, file).toBeGreaterThan(0);
      for (const c of spec.containers) {
        expect(c.securityContext?.readOnlyRootFilesystem, file).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation, file).toBe(false);
        expect(c.securityContext?.capabilities?.drop, file).toEqual(["ALL"]);
        const tmp = c.volumeMounts?.find((vm) => vm.mountPath === "/tmp");
        expect(spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, `${file}: /tmp is an emptyDir`).toBeDefined();
        expect(c.resources?.requests?.["memory"], file).toBeDefined();
        expect(c.resources?.limits?.["memory"], file).toBeDefined();
      }
    }
  });
});
