import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { matchesAlert } from "../../src/runbooks/format.ts";
import { loadRunbooks } from "../../src/runbooks/load.ts";
import {
  renderArgv,
  renderBody,
  renderHeaders,
  renderQuery,
  renderUrl,
  resolveParams,
  runbookSecrets,
  secretEnvName,
  type ParamValues,
} from "../../src/runbooks/template.ts";
import type { Runbook, RunbookLibrary, RunbookStep } from "../../src/runbooks/types.ts";
import { parseAlertmanager } from "../../src/sources/alertmanager.ts";
import { formatProblem } from "../../src/util/yaml-file.ts";
import { fixtureJson, fixturePath } from "../helpers/shared.ts";

/** The starter library shipped in runbooks/: it must load cleanly and do what it says. */

const shippedDir = join(import.meta.dirname, "../../runbooks");

let library: RunbookLibrary;
beforeAll(async () => {
  library = await loadRunbooks(shippedDir);
});

function get(id: string): Runbook {
  const runbook = library.byId(id);
  if (!runbook) throw new Error(`no runbook ${id}`);
  return runbook;
}

const dns1123Label = "^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$";
const dns1123Subdomain = "^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$";

/** Values a person would give with Modify for params that have no default. */
const modify: Record<string, Record<string, string>> = {
  "raise-memory-limit": { deployment: "payments-api", memory: "768Mi" },
  "expand-pvc": { size: "20Gi" },
  "uncordon-node": { node: "worker-3" },
};

interface FixtureAlert {
  where: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function fixtureAlerts(): FixtureAlert[] {
  const files = readdirSync(fixturePath("alertmanager")).filter((f) => f.endsWith(".json")).sort();
  return files.flatMap((file) => {
    const group = parseAlertmanager(fixtureJson(`alertmanager/${file}`), { now: new Date("2025-11-18T10:00:00Z") });
    return group.alerts.map((alert, index) => ({ where: `${file}#${index} ${alert.alertname}`, labels: alert.labels, annotations: alert.annotations }));
  });
}

function render(step: RunbookStep, values: ParamValues): unknown {
  const secrets = (name: string) => `test-${name.toLowerCase()}`;
  switch (step.type) {
    case "run":
      return renderArgv(step.argv, values);
    case "http":
      return [renderUrl(step.request.url, values), renderHeaders(step.request.headers, values, secrets), renderBody(step.request.body, values, secrets)];
    case "wait":
      return step.durationMs;
    case "check":
      if (step.condition.kind === "prometheus") return renderQuery(step.condition.query, values);
      return [renderUrl(step.condition.request.url, values), renderHeaders(step.condition.request.headers, values, secrets)];
  }
}

describe("the shipped runbooks", () => {
  it("all load, with no problems, and there is no placeholder left in the folder", () => {
    expect(library.problems.map(formatProblem)).toEqual([]);
    expect(library.runbooks.length).toBeGreaterThanOrEqual(12);
    expect(readdirSync(shippedDir)).not.toContain(".gitkeep");
  });

  it("are runbooks with steps and a body written for a person: what, when not, after", () => {
    for (const runbook of library.runbooks) {
      expect(runbook.kind, runbook.id).toBe("runbook");
      expect(runbook.file, runbook.id).toBe(`${runbook.id}.md`);
      expect(runbook.steps.length, runbook.id).toBeGreaterThanOrEqual(2);
      expect(runbook.steps.some((s) => s.type === "check"), `${runbook.id} verifies its work`).toBe(true);
      expect(runbook.body.startsWith(`# ${runbook.title.split(" (")[0]}`), runbook.id).toBe(true);
      expect(runbook.body, runbook.id).toMatch(/^## What it does$/m);
      expect(runbook.body, runbook.id).toMatch(/^## When NOT to use it$/m);
      expect(runbook.body, runbook.id).toMatch(/^## After it runs$/m);
      expect(runbook.startingLevel, runbook.id).toBe("manual");
    }
  });

  it("include the essentials, with honest risk levels", () => {
    const risks = Object.fromEntries(library.runbooks.map((r) => [r.id, r.risk]));
    expect(risks).toMatchObject({
      "restart-deployment": "low",
      "restart-crashlooping-pod": "low",
      "rollback-deployment": "medium",
      "raise-memory-limit": "medium",
      "free-disk-space-docker-host": "medium",
      "free-disk-space-k8s-node": "medium",
      "restart-radarr": "low",
      "restart-sonarr": "low",
      "renew-certificate": "low",
      "argocd-sync-app": "medium",
      "delete-failed-job": "low",
      "restart-home-assistant": "low",
      "reload-prometheus-config": "low",
      "drain-node": "high",
      "expand-pvc": "medium",
    });
  });

  it("run only well-known tools, never through a shell", () => {
    const tools = new Set<string>();
    for (const runbook of library.runbooks) {
      for (const step of runbook.steps) if (step.type === "run") tools.add(step.argv[0]!);
    }
    expect([...tools].sort()).toEqual(["argocd", "cmctl", "kubectl", "ssh"]);
    const argvs = library.runbooks.flatMap((r) => r.steps.flatMap((s) => (s.type === "run" ? [s.argv] : [])));
    expect(argvs.some((argv) => ["sh", "bash"].includes(argv[0]!) || argv.includes("-c"))).toBe(false);
  });

  it("do what their titles promise", () => {
    const argvOf = (id: string) => get(id).steps.flatMap((s) => (s.type === "run" ? [s.argv.join(" ")] : []));
    expect(argvOf("restart-deployment")).toEqual([
      "kubectl rollout restart deployment/{{ deployment }} --namespace {{ namespace }}",
      "kubectl rollout status deployment/{{ deployment }} --namespace {{ namespace }} --timeout=5m",
    ]);
    expect(argvOf("restart-crashlooping-pod")[1]).toBe("kubectl delete pod {{ pod }} --namespace {{ namespace }} --wait=true --timeout=2m");
    expect(argvOf("rollback-deployment")).toContain("kubectl rollout undo deployment/{{ deployment }} --namespace {{ namespace }} --to-revision={{ revision }}");
    expect(argvOf("raise-memory-limit")).toContain(
      "kubectl set resources deployment/{{ deployment }} --namespace {{ namespace }} --containers={{ container }} --limits=memory={{ memory }}",
    );
    expect(get("raise-memory-limit").params.find((p) => p.name === "memory")?.pattern).toBe("^(?:[1-9][0-9]{0,5}(Mi|Gi))$");
    expect(argvOf("renew-certificate")).toContain("cmctl renew {{ certificate }} --namespace {{ namespace }}");
    expect(argvOf("argocd-sync-app")).toContain('argocd app sync {{ app }} --timeout 300');
    expect(argvOf("delete-failed-job")).toContain("kubectl delete job/{{ job }} --namespace {{ namespace }} --wait=true --timeout=2m");
    expect(argvOf("drain-node")).toContain("kubectl drain {{ node }} --ignore-daemonsets --delete-emptydir-data --timeout=15m");
    expect(argvOf("drain-node").some((a) => a.includes("--force") || a.includes("--disable-eviction"))).toBe(false);
    expect(argvOf("free-disk-space-docker-host")).toEqual(
      expect.arrayContaining([
        "ssh -o BatchMode=yes -o ConnectTimeout=10 -- {{ host }} sudo -n journalctl --vacuum-size={{ journal_size }}",
        "ssh -o BatchMode=yes -o ConnectTimeout=10 -- {{ host }} sudo -n apt-get clean",
        "ssh -o BatchMode=yes -o ConnectTimeout=10 -- {{ host }} sudo -n docker image prune --all --force --filter until=168h",
      ]),
    );

    const requestOf = (id: string) => get(id).steps.flatMap((s) => (s.type === "http" ? [s.request] : []))[0]!;
    expect(requestOf("restart-radarr")).toMatchObject({
      method: "POST",
      url: "http://{{ host }}:7878/api/v3/system/restart",
      headers: { "X-Api-Key": "{{ secret.RADARR_API_KEY }}" },
    });
    expect(requestOf("restart-sonarr")).toMatchObject({ method: "POST", url: "http://{{ host }}:8989/api/v3/system/restart" });
    expect(requestOf("restart-home-assistant")).toMatchObject({
      method: "POST",
      url: "http://{{ host }}:8123/api/services/homeassistant/restart",
      headers: { Authorization: "Bearer {{ secret.HOME_ASSISTANT_TOKEN }}" },
    });
    expect(requestOf("reload-prometheus-config")).toMatchObject({ method: "POST", url: "http://{{ host }}:9090/-/reload", expectStatus: [200] });
    const radarrCheck = get("restart-radarr").steps.find((s) => s.type === "check");
    expect(radarrCheck).toMatchObject({ condition: { kind: "http", request: { method: "GET", url: "http://{{ host }}:7878/api/v3/system/status" } } });
  });

  it("say in the body which environment variable each secret comes from", () => {
    const used = new Set<string>();
    for (const runbook of library.runbooks) {
      for (const name of runbookSecrets(runbook)) {
        used.add(name);
        expect(runbook.body, runbook.id).toContain(secretEnvName(name));
      }
    }
    expect([...used].sort()).toEqual(["HOME_ASSISTANT_TOKEN", "RADARR_API_KEY", "SONARR_API_KEY"]);
  });

  it("give Kubernetes names DNS-1123 patterns", () => {
    for (const runbook of library.runbooks) {
      for (const param of runbook.params) {
        if (param.name === "namespace" || param.name === "container") expect(param.pattern, `${runbook.id}.${param.name}`).toBe(dns1123Label);
        if (["deployment", "pod", "pvc", "job", "node", "certificate", "app"].includes(param.name) && runbook.id !== "restart-target-deployment") {
          expect(param.pattern, `${runbook.id}.${param.name}`).toBe(dns1123Subdomain);
        }
      }
    }
  });

  it("refuse shell metacharacters and options in every param", () => {
    const attempts = ["x; rm -rf /", "$(id)", "`id`", "a b", "x\ny", "-oProxyCommand=id", "a|b", "a&&b", "'quoted'", '"q"', "a>b", "~root"];
    for (const runbook of library.runbooks) {
      for (const param of runbook.params) {
        for (const value of attempts) {
          const result = resolveParams(runbook, { labels: {}, annotations: {} }, { ...modify[runbook.id], [param.name]: value });
          expect("error" in result && result.error, `${runbook.id}.${param.name} = ${JSON.stringify(value)}`).toContain(`param "${param.name}": value`);
        }
      }
    }
  });
});

describe("the shipped runbooks against real alerts", () => {
  const alerts = fixtureAlerts();

  it("match the alerts they are written for, and nothing else", () => {
    const matches = Object.fromEntries(
      alerts.map((alert) => [alert.where, library.runbooks.filter((r) => matchesAlert(r.match, alert.labels)).map((r) => r.id)]),
    );
    const crashLooping = ["raise-memory-limit", "restart-crashlooping-pod"];
    const replicas = ["restart-deployment", "rollback-deployment"];
    expect(matches).toMatchObject({
      "assembled-firing-critical-node-filesystem.json#0 NodeFilesystemSpaceFillingUp": ["free-disk-space-k8s-node"],
      "assembled-firing-critical-node-filesystem.json#1 NodeFilesystemAlmostOutOfSpace": ["free-disk-space-k8s-node"],
      "assembled-firing-kube-pod-crashlooping.json#0 KubePodCrashLooping": crashLooping,
      "assembled-firing-kube-pod-crashlooping.json#1 KubePodCrashLooping": crashLooping,
      "assembled-firing-namespace-group-mixed-alerts.json#0 KubePodCrashLooping": crashLooping,
      "assembled-firing-namespace-group-mixed-alerts.json#1 KubeDeploymentReplicasMismatch": replicas,
      "assembled-firing-namespace-group-mixed-alerts.json#2 KubePodNotReady": ["restart-crashlooping-pod"],
      "assembled-firing-partially-resolved-deployment-replicas.json#0 KubeDeploymentReplicasMismatch": replicas,
      "assembled-firing-partially-resolved-deployment-replicas.json#1 KubeDeploymentReplicasMismatch": replicas,
      "assembled-firing-pv-filling-up-am034-format.json#0 KubePersistentVolumeFillingUp": ["expand-pvc"],
      "assembled-firing-target-down-truncated.json#0 TargetDown": [],
      "assembled-firing-target-down-truncated.json#1 TargetDown": ["restart-target-deployment"],
      "assembled-resolved-kube-pod-crashlooping.json#0 KubePodCrashLooping": crashLooping,
      "assembled-resolved-kube-pod-crashlooping.json#1 KubePodCrashLooping": crashLooping,
      "assembled-resolved-node-memory-high-utilization.json#0 NodeMemoryHighUtilization": [],
    });
    // Everything else in the fixtures (InstanceDown, high_memory_load, LoadAverage_*, …) matches nothing.
    const matched = Object.entries(matches).filter(([, ids]) => ids.length > 0).map(([where]) => where);
    expect(matched).toHaveLength(13);
  });

  it("resolve their params from those alerts and render every step", () => {
    let rendered = 0;
    for (const alert of alerts) {
      for (const runbook of library.runbooks.filter((r) => matchesAlert(r.match, alert.labels))) {
        const result = resolveParams(runbook, alert, modify[runbook.id]);
        if ("error" in result) throw new Error(`${runbook.id} on ${alert.where}: ${result.error}`);
        for (const step of runbook.steps) {
          const out = JSON.stringify(render(step, result.values));
          expect(out, `${runbook.id} on ${alert.where}`).not.toContain("{{");
          rendered++;
        }
      }
    }
    expect(rendered).toBeGreaterThan(50);
  });

  it("turn a crash-looping pod into the exact commands", () => {
    const alert = alerts.find((a) => a.where === "assembled-firing-kube-pod-crashlooping.json#0 KubePodCrashLooping")!;
    const runbook = get("restart-crashlooping-pod");
    const result = resolveParams(runbook, alert);
    expect(result).toEqual({ values: { namespace: "payments", pod: "payments-api-7c9d8b6f5d-x2k4p" } });
    if ("error" in result) return;
    const [owner, remove, gone] = runbook.steps;
    expect(render(owner!, result.values)).toEqual([
      "kubectl",
      "get",
      "pod",
      "payments-api-7c9d8b6f5d-x2k4p",
      "--namespace",
      "payments",
      "--output=jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
      "--allow-missing-template-keys=false",
    ]);
    expect(render(remove!, result.values)).toEqual(["kubectl", "delete", "pod", "payments-api-7c9d8b6f5d-x2k4p", "--namespace", "payments", "--wait=true", "--timeout=2m"]);
    expect(render(gone!, result.values)).toBe('kube_pod_info{namespace="payments", pod="payments-api-7c9d8b6f5d-x2k4p"}');
  });

  it("refuse to run when a label carries an injection", () => {
    const alert = alerts.find((a) => a.where.startsWith("assembled-firing-critical-node-filesystem.json#0"))!;
    const runbook = get("free-disk-space-k8s-node");
    const result = resolveParams(runbook, { ...alert, labels: { ...alert.labels, instance: "worker-3;reboot", mountpoint: "/var $(id)" } });
    expect("error" in result && result.error).toBe(
      'param "host": value "worker-3;reboot" (from labels.instance) does not match the param\'s pattern ^(?:[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$; ' +
        'param "mountpoint": value "/var $(id)" (from labels.mountpoint) does not match the param\'s pattern ^(?:/[A-Za-z0-9._/-]{0,200})$',
    );
  });
});
