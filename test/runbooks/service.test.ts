import { cp, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { importRunbooks } from "../../src/runbooks/import.ts";
import { createEmbeddedIndex } from "../../src/runbooks/search/embedded-index.ts";
import { createLexicalEmbedder, type Embedder } from "../../src/runbooks/search/embedder.ts";
import { createRunbookService, type RunbookService } from "../../src/runbooks/service.ts";
import { parseAlertmanager } from "../../src/sources/alertmanager.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { fixtureJson, sharedDir } from "../helpers/shared.ts";

const logger = createLogger({ level: "silent" });
let db: TestDatabase;
let dir: string;

/** The lexical embedder, counting what it is asked to embed. */
function countingEmbedder(): Embedder & { documents: number; queries: number } {
  const inner = createLexicalEmbedder();
  const counter = {
    name: inner.name,
    dims: inner.dims,
    documents: 0,
    queries: 0,
    async embedDocuments(texts: string[]) {
      counter.documents += texts.length;
      return inner.embedDocuments(texts);
    },
    embedQuery(text: string) {
      counter.queries++;
      return inner.embedQuery(text);
    },
  };
  return counter;
}

function service(embedder: Embedder, options: { decisionsEveryMs?: number } = {}): RunbookService {
  return createRunbookService({ sql: db.sql, dir, embedder, index: createEmbeddedIndex(), logger, minSimilarity: 0.2, ...options });
}

const alert = (file: string, i = 0) => {
  const a = parseAlertmanager(fixtureJson(`alertmanager/${file}`)).alerts[i]!;
  return { alertname: a.alertname, labels: a.labels, annotations: a.annotations };
};

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), "topicops-runbooks-"));
  await cp(new URL("../../runbooks", import.meta.url).pathname, dir, { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await db.drop();
});

describe("syncing the library to Postgres and the index", () => {
  it("embeds each runbook once, and again only when it changes; removal leaves the index but keeps the row", async () => {
    const embedder = countingEmbedder();
    const first = service(embedder);
    const report = await first.sync();
    expect(report).toMatchObject({ runbooks: 18, embedded: 18, indexed: 18, removed: 0, problems: 0, rebuilt: true });
    expect(await db.sql`select id from search_docs where kind = 'runbook'`).toHaveLength(18);

    expect(await first.sync()).toMatchObject({ embedded: 0, indexed: 0, removed: 0, rebuilt: false });

    const file = path.join(dir, "restart-radarr.md");
    const original = await readFile(file, "utf8");
    await writeFile(file, original.replace("# Restart Radarr", "# Restart Radarr (edited)"));
    expect(await first.sync()).toMatchObject({ embedded: 1, indexed: 1 });

    await db.sql`update runbooks set level = 'prompted' where id = 'restart-radarr'`;
    await rm(file);
    expect(await first.sync()).toMatchObject({ runbooks: 17, removed: 1 });
    const [gone] = await db.sql<{ removed_at: Date | null; level: string }[]>`select removed_at, level from runbooks where id = 'restart-radarr'`;
    expect(gone!.removed_at).not.toBeNull();
    expect((await first.match(alert("assembled-firing-kube-pod-crashlooping.json"))).map((m) => m.runbookId)).not.toContain("restart-radarr");

    await writeFile(file, original);
    await first.sync();
    const [back] = await db.sql<{ removed_at: Date | null; level: string }[]>`select removed_at, level from runbooks where id = 'restart-radarr'`;
    // A runbook that comes back keeps the level it had earned.
    expect(back).toEqual({ removed_at: null, level: "prompted" });
    expect(embedder.documents).toBe(18 + 1 + 1);
  });

  it("a new process fills its in-process index from Postgres without embedding anything", async () => {
    const embedder = countingEmbedder();
    const second = service(embedder);
    await second.start({ watch: false });
    expect(embedder.documents).toBe(0);
    const matches = await second.match(alert("assembled-firing-kube-pod-crashlooping.json"), { includeName: false });
    expect(matches[0]?.runbookId).toBe("restart-crashlooping-pod");
    await second.stop();
  });

  it("re-syncs by itself when a file changes", async () => {
    const s = service(createLexicalEmbedder());
    await s.start({ watch: true });
    await writeFile(
      path.join(dir, "zz-watch-test.md"),
      "# Restart the flux capacitor\n\nWhen the FluxCapacitorOverheating alert fires, restart the flux capacitor.\n",
    );
    const deadline = Date.now() + 10_000;
    while (!s.library().byId("zz-watch-test") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(s.library().byId("zz-watch-test")?.kind).toBe("page");
    const matches = await s.match({ alertname: "FluxCapacitorOverheating", labels: {}, annotations: {} });
    expect(matches[0]).toMatchObject({ runbookId: "zz-watch-test", via: "similar" });
    await rm(path.join(dir, "zz-watch-test.md"));
    await s.stop();
  });
});

describe("a runbooks directory that cannot be read", () => {
  it("keeps the runbooks read before, in the library and the index, and says so", async () => {
    const own = await mkdtemp(path.join(tmpdir(), "topicops-runbooks-gone-"));
    await cp(new URL("../../runbooks", import.meta.url).pathname, own, { recursive: true });
    const lines: { level: string; msg: string }[] = [];
    const logs = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    const s = createRunbookService({ sql: db.sql, dir: own, embedder: createLexicalEmbedder(), index: createEmbeddedIndex(), logger: logs, minSimilarity: 0.2 });
    const crash = alert("assembled-firing-kube-pod-crashlooping.json");
    const first = await s.sync();
    expect(first.runbooks).toBe(18);
    const before = (await s.match(crash)).map((m) => m.runbookId);
    expect(before).toContain("restart-crashlooping-pod");

    // Being replaced (a deploy that removes and copies it again), or unmounted.
    await rename(own, `${own}.away`);
    expect(await s.sync()).toEqual(first);
    expect(s.library().runbooks).toHaveLength(18);
    expect((await s.match(crash)).map((m) => m.runbookId)).toEqual(before);
    expect(lines.some((l) => l.level === "error" && /cannot be read; keeping the 18 runbooks/.test(l.msg))).toBe(true);
    const [removed] = await db.sql<{ n: number }[]>`select count(*)::int as n from runbooks where removed_at is not null and id = 'restart-crashlooping-pod'`;
    expect(removed!.n).toBe(0);

    // Back again: read as usual.
    await rename(`${own}.away`, own);
    await rm(path.join(own, "restart-radarr.md"));
    expect(await s.sync()).toMatchObject({ runbooks: 17, removed: 1 });
    await rm(own, { recursive: true, force: true });
  });
});

describe("matching alerts to runbooks", () => {
  let s: RunbookService;
  beforeAll(async () => {
    s = service(createLexicalEmbedder());
    await s.start({ watch: false });
  });
  afterAll(() => s.stop());

  it("match rules come first, with the reason", async () => {
    const matches = await s.match(alert("assembled-firing-kube-pod-crashlooping.json"));
    expect(matches.slice(0, 2).map((m) => [m.runbookId, m.via, m.score])).toEqual([
      ["raise-memory-limit", "rule", 1],
      ["restart-crashlooping-pod", "rule", 1],
    ]);
    expect(matches[0]!.reason).toBe("written for KubePodCrashLooping");
    expect(matches).toHaveLength(3);
  });

  it("label matchers take part: a runbook for the Docker host does not match a node-exporter pod's filesystem", async () => {
    const ids = (await s.match(alert("assembled-firing-critical-node-filesystem.json"))).filter((m) => m.via === "rule").map((m) => m.runbookId);
    expect(ids).toEqual(["free-disk-space-k8s-node"]);
  });

  it("says nothing rather than suggest noise", async () => {
    expect(await s.match(alert("verbatim-zulip-firing-2-alerts.json"))).toEqual([]);
  });

  it("finds the right runbook by what the alert says when the name is left out", async () => {
    const top = async (file: string, i = 0) => (await s.match(alert(file, i), { includeName: false }))[0]?.runbookId;
    expect(await top("assembled-firing-kube-pod-crashlooping.json")).toBe("restart-crashlooping-pod");
    expect(await top("assembled-firing-pv-filling-up-am034-format.json")).toBe("expand-pvc");
  });
});

describe("searching for a card", () => {
  it("embeds the alert once for the runbooks and the decisions both", async () => {
    const embedder = countingEmbedder();
    const s = service(embedder);
    await s.start({ watch: false });
    const pv = alert("assembled-firing-pv-filling-up-am034-format.json");
    const alone = await s.match(pv);
    // Rules and names leave room, so matching alone asks the index too.
    expect(alone.some((m) => m.via === "similar")).toBe(true);
    embedder.queries = 0;
    const found = await s.search(pv);
    expect(embedder.queries).toBe(1);
    expect(found.matches).toEqual(alone);
    await s.stop();
  });
});

describe("read-only pages from the public corpus", () => {
  it("imports all 50, and an alert named like a page gets it suggested", async () => {
    const result = await importRunbooks(path.join(sharedDir, "corpus/prometheus-operator-runbooks"), dir);
    expect(result.imported).toHaveLength(50);
    expect(result.problems).toEqual([]);
    const s = service(createLexicalEmbedder());
    const report = await s.sync();
    expect(report).toMatchObject({ runbooks: 68, problems: 0 });
    const matches = await s.match(alert("assembled-firing-target-down-truncated.json"));
    expect(matches[0]).toMatchObject({ runbookId: "targetdown", kind: "page", via: "name", reason: "named after TargetDown" });
    await s.stop();
  });
});

describe("decisions are searchable", () => {
  it("a card can say what was done the last time, and shows each runbook's record", async () => {
    const s = service(createLexicalEmbedder());
    await s.start({ watch: false });
    const crash = alert("assembled-firing-kube-pod-crashlooping.json");
    const [d] = await db.sql<{ id: number }[]>`
      insert into decisions (alertname, labels, summary, runbook_id, level, action, actor_id, actor_name, outcome, outcome_at, created_at)
      values (${crash.alertname}, ${db.sql.json(crash.labels)}, 'Pod is crash looping.', 'restart-crashlooping-pod', 'manual', 'approved',
              284019371, 'Anna', 'succeeded', now(), '2025-11-15T10:00:00Z')
      returning id`;
    await db.sql`
      insert into decisions (alertname, labels, runbook_id, level, action, created_at)
      values ('KubePodCrashLooping', '{}', 'raise-memory-limit', 'manual', 'ignored', '2025-11-16T10:00:00Z')`;
    // The record comes from the runs decisions led to.
    const [group] = await db.sql<{ id: number }[]>`
      insert into alert_groups (source, group_key, receiver, group_labels, common_labels, common_annotations)
      values ('alertmanager', 'g-track', 'r', '{}', '{}', '{}') returning id`;
    const [proposal] = await db.sql<{ id: number }[]>`
      insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, fingerprint, alertname, status, expires_at)
      values (-1, ${group!.id}, 1, 'restart-crashlooping-pod', 'manual', 'low', '{}', 'f', 'KubePodCrashLooping', 'approved', now())
      returning id`;
    await db.sql`
      insert into executions (proposal_id, runbook_id, params, trigger, level, group_id, episode, fingerprint, status, queued_at, finished_at)
      values (${proposal!.id}, 'restart-crashlooping-pod', '{}', 'approved', 'manual', ${group!.id}, 1, 'f', 'succeeded', '2025-11-15T10:00:00Z', '2025-11-15T10:01:00Z')`;
    await s.indexDecision(d!.id);
    const found = await s.suggest(crash);
    expect(found.lastTime?.text).toBe("Delete a crash-looping pod so its controller recreates it was approved and worked (Nov 15)");
    const restart = found.suggestions.find((m) => m.runbookId === "restart-crashlooping-pod")!;
    expect(restart.record).toMatchObject({ approved: 1, succeeded: 1, failed: 0, lastUsed: new Date("2025-11-15T10:00:00Z") });
    expect(restart.level).toBe("manual");
    // A card searched before LastTime lost its placeholders keeps them in card_matches: still shown right.
    const cached = JSON.parse(JSON.stringify({ matches: [], lastTime: { ...found.lastTime!, runbookTitle: null, text: "" } }));
    cached.lastTime.at = new Date(cached.lastTime.at);
    expect((await s.decorate(cached)).lastTime).toEqual(found.lastTime);
    // Another process finds the decision too: its embedding is in Postgres.
    const other = service(createLexicalEmbedder());
    await other.start({ watch: false });
    expect((await other.suggest(crash)).lastTime?.decisionId).toBe(d!.id);
    await other.stop();
    await s.stop();
  });

  it("a decision one process indexes reaches the other processes' in-process indexes, and so does its outcome", async () => {
    // Two worker processes without Qdrant: the sweep that indexes decisions runs in one at a time.
    const sweeping = service(createLexicalEmbedder(), { decisionsEveryMs: 50 });
    const other = service(createLexicalEmbedder(), { decisionsEveryMs: 50 });
    await sweeping.start({ watch: false });
    await other.start({ watch: false });
    const pv = alert("assembled-firing-pv-filling-up-am034-format.json");
    const [d] = await db.sql<{ id: number }[]>`
      insert into decisions (alertname, labels, summary, runbook_id, level, action, actor_name)
      values (${pv.alertname}, ${db.sql.json(pv.labels)}, ${pv.annotations.summary ?? null}, 'expand-pvc', 'manual', 'approved', 'Anna')
      returning id`;
    await sweeping.indexPendingDecisions();
    expect((await sweeping.suggest(pv)).lastTime?.decisionId).toBe(d!.id);
    await vi.waitFor(async () => expect((await other.suggest(pv)).lastTime?.decisionId).toBe(d!.id), { timeout: 10_000, interval: 50 });

    await db.sql`update decisions set outcome = 'failed', outcome_at = now() where id = ${d!.id}`;
    await sweeping.indexPendingDecisions();
    expect((await sweeping.suggest(pv)).lastTime?.text).toMatch(/ was approved, and failed \(\w+ \d+\)$/);
    await vi.waitFor(async () => expect((await other.suggest(pv)).lastTime?.text).toMatch(/ was approved, and failed \(\w+ \d+\)$/), { timeout: 10_000, interval: 50 });
    await sweeping.stop();
    await other.stop();
  });
});
