import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runbooksCommand } from "../../src/cli/runbooks.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { fixturePath, sharedDir } from "../helpers/shared.ts";

const logger = createLogger({ level: "silent" });
let db: TestDatabase;
let dir: string;

async function run(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const config = loadConfig({ DATABASE_URL: db.url, RUNBOOKS_DIR: dir });
  const code = await runbooksCommand(args, config, logger, { log: (l) => stdout.push(l), error: (l) => stderr.push(l) });
  return { code, out: stdout.join("\n"), err: stderr.join("\n") };
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), "topicops-cli-"));
  await cp(new URL("../../runbooks", import.meta.url).pathname, dir, { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await db.drop();
});

describe("topicops runbooks", () => {
  it("validate: all good", async () => {
    expect(await run("validate")).toEqual({ code: 0, out: "18 runbooks loaded (18 with steps, 0 read-only pages), 0 problems", err: "" });
  });

  it("validate: names the file and line of each problem and exits 1, the other files still load", async () => {
    await writeFile(path.join(dir, "broken.md"), "---\nid: broken\ntitle: Broken\nrisk: extreme\nsteps:\n  - run: [echo, hi]\n---\nbody\n");
    const result = await run("validate");
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^broken\.md:4:7: risk: /m);
    expect(result.out).toBe("18 runbooks loaded (18 with steps, 0 read-only pages), 1 problem");
    await rm(path.join(dir, "broken.md"));
  });

  it("list and show", async () => {
    const list = await run("list");
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^restart-crashlooping-pod\s+runbook\s+low\s+manual \(start\)\s+3\s+Delete a crash-looping pod/m);
    const json = JSON.parse((await run("list", "--json")).out);
    expect(json.runbooks).toHaveLength(18);
    const show = await run("show", "restart-radarr");
    expect(show.out).toContain("id: restart-radarr");
    expect(show.out).toContain("http POST");
    expect((await run("show", "nope")).code).toBe(1);
  });

  it("show: a param's pattern as it is checked, anchored once", async () => {
    const show = await run("show", "restart-crashlooping-pod");
    expect(show.out).toContain("    namespace = {{ labels.namespace }}   must match ^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$   Namespace of the pod.");
    expect(show.out).not.toContain("^(?:^(?:");
  });

  it("show and match: a label matcher is written as it would be parsed back, quotes escaped", async () => {
    const file = path.join(dir, "zz-quoted.md");
    await writeFile(file, `---\nid: zz-quoted\ntitle: Quoted\nrisk: low\nmatch:\n  alerts: [QuotedAlert]\n  labels: { reason: 'say "hi"' }\nsteps:\n  - run: [echo, hi]\n---\nbody\n`);
    const payload = path.join(dir, "quoted.json");
    const alert = { status: "firing", labels: { alertname: "QuotedAlert", reason: 'say "hi"' }, annotations: {}, startsAt: "2025-11-15T10:00:00Z", endsAt: "0001-01-01T00:00:00Z", generatorURL: "", fingerprint: "0123456789abcdef" };
    await writeFile(payload, JSON.stringify({ version: "4", groupKey: "{}:{}", status: "firing", receiver: "r", groupLabels: {}, commonLabels: alert.labels, commonAnnotations: {}, externalURL: "", alerts: [alert] }));
    try {
      expect((await run("show", "zz-quoted")).out).toContain('  labels: reason="say \\"hi\\""');
      expect((await run("match", payload)).out).toMatch(/1\. zz-quoted\s+100%\s+rule\s+written for QuotedAlert; labels reason="say \\"hi\\""$/m);
    } finally {
      await rm(file);
      await rm(payload);
    }
  });

  it("sync, then import the public corpus (and sync it)", async () => {
    const synced = await run("sync");
    expect(synced).toMatchObject({ code: 0, out: "synced 18 runbooks: 18 embedded, 18 written to the index, 0 removed, 0 problems" });
    const imported = await run("import", path.join(sharedDir, "corpus/prometheus-operator-runbooks"));
    expect(imported.code).toBe(0);
    expect(imported.out).toContain("50 imported, 0 skipped, 0 problems");
    expect(imported.out).toContain("synced 68 runbooks: 50 embedded");
    const levels = (await run("list")).out;
    expect(levels).toMatch(/^kubepodcrashlooping\s+page\s+-\s+read-only/m);
    expect(levels).toMatch(/^restart-radarr\s+runbook\s+low\s+manual\s/m);
  });

  it("match: any payload the service accepts, ranked with scores, also as JSON", async () => {
    const text = await run("match", fixturePath("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^KubePodCrashLooping \(firing; /m);
    expect(text.out).toMatch(/1\. raise-memory-limit\s+100%\s+rule\s+written for KubePodCrashLooping/);
    expect(text.out).toMatch(/3\. kubepodcrashlooping\s+95%\s+name\s+named after KubePodCrashLooping/);
    const json = JSON.parse((await run("match", fixturePath("alertmanager/assembled-firing-kube-pod-crashlooping.json"), "--json", "--without-name")).out);
    expect(json.results[0].matches[0].via).toBe("similar");
    expect(json.results[0].matches[0].score).toBeGreaterThan(0.2);
  });

  it("match: a payload it cannot read is an error that says why", async () => {
    const bad = path.join(dir, "bad.json");
    await writeFile(bad, '{"alerts": "nope"}');
    await expect(run("match", bad)).rejects.toThrow(/alerts/);
    await rm(bad);
  });

  it("unknown subcommands print the usage and exit 2", async () => {
    const result = await run("frobnicate");
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown runbooks command "frobnicate"');
  });
});
