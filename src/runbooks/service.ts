import type { Sql, Tx } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { AlertLike } from "./documents.ts";
import { describeLastTime, indexDecision, lastTime, pendingDecisions, trackRecords, type DescribedLastTime, type LastTime, type TrackRecord } from "./history.ts";
import { keepsCurrent, loadRunbooks } from "./load.ts";
import { embedAlertQuery, matchRunbooks, type RunbookMatch } from "./match.ts";
import type { Embedder } from "./search/embedder.ts";
import type { VectorIndex } from "./search/vector-index.ts";
import { libraryVersion, loadDocs, syncRunbooks, toIndexed, type SyncReport } from "./sync.ts";
import type { RunbookLibrary, TrustLevel } from "./types.ts";
import { watchDir } from "./watch-dir.ts";

// Cards format their other dates the same way.
export { shortDate } from "./history.ts";

export interface RunbookServiceDeps {
  sql: Sql;
  dir: string;
  embedder: Embedder;
  index: VectorIndex;
  logger: Logger;
  /** Cosine similarity below which a candidate is noise (the card says "no runbook"). */
  minSimilarity: number;
  /**
   * How often an in-process index reads the decisions other processes indexed (the sweep that
   * indexes them runs in one process at a time). Default 30 s, the sweep's own period.
   */
  decisionsEveryMs?: number;
}

/** One suggestion as a card shows it: the match, the runbook's level and its record so far. */
export interface Suggestion extends RunbookMatch {
  level: TrustLevel | "page";
  record: TrackRecord | undefined;
}

export interface Suggestions {
  suggestions: Suggestion[];
  lastTime: DescribedLastTime | undefined;
}

export interface RunbookService {
  library(): RunbookLibrary;
  version(): string;
  /** Reads the runbooks directory again and brings the database and the index in line. */
  sync(): Promise<SyncReport>;
  match(alert: AlertLike, options?: { limit?: number; includeName?: boolean }): Promise<RunbookMatch[]>;
  /** Matches plus levels, track records and what was done last time: what a card shows. */
  suggest(alert: AlertLike): Promise<Suggestions>;
  /** The search part of `suggest`, which a card keeps (it does not change while the library does not). */
  search(alert: AlertLike): Promise<{ matches: RunbookMatch[]; lastTime: LastTime | undefined }>;
  /** The part of `suggest` that changes as decisions are made: levels and track records, now. */
  /** `db`: the caller's transaction, when it holds one (a job should not take a second connection). */
  decorate(found: { matches: RunbookMatch[]; lastTime: LastTime | undefined }, db?: Tx): Promise<Suggestions>;
  indexDecision(decisionId: number): Promise<void>;
  /**
   * Indexes, up to `limit`, the decisions whose search doc is missing, from another embedder, or
   * without the outcome their run has since had. Returns how many it indexed.
   */
  indexPendingDecisions(limit?: number): Promise<number>;
  /**
   * Loads, syncs, fills the index with the decisions from Postgres, and watches the directory; an
   * in-process index then keeps reading the decisions other processes index.
   */
  start(options?: { watch?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The runbook library and its search. Every process that matches alerts has one; the embeddings
 * are shared through Postgres, so a process fills an embedded index without embedding anything.
 */
export function createRunbookService(deps: RunbookServiceDeps): RunbookService {
  const { sql, logger } = deps;
  let library: RunbookLibrary = { runbooks: [], problems: [], byId: () => undefined };
  let version = libraryVersion(library);
  let unwatch: (() => void) | undefined;
  let syncing: Promise<SyncReport> | undefined;
  let lastReport: SyncReport | undefined;
  let again = false;

  async function sync(): Promise<SyncReport> {
    // A burst of file events becomes one sync, plus one more if files changed while it ran.
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      try {
        const loaded = await loadRunbooks(deps.dir);
        if (lastReport && keepsCurrent(loaded, library, deps.dir, logger)) return lastReport;
        for (const p of loaded.problems) logger.warn({ file: p.file, line: p.line, path: p.path }, `runbook problem: ${p.message}`);
        const report = await syncRunbooks(deps, loaded);
        library = loaded;
        version = libraryVersion(loaded);
        lastReport = report;
        return report;
      } finally {
        syncing = undefined;
      }
    })();
    const report = await syncing;
    if (again) {
      again = false;
      return sync();
    }
    return report;
  }

  /** The newest decision doc read so far: later reads ask only for what changed since. */
  let decisionsSince: Date | undefined;
  let loadingDecisions: Promise<void> | undefined;
  let decisionsTimer: NodeJS.Timeout | undefined;

  /**
   * The decisions' embeddings live in Postgres, written by whichever process indexed them; an
   * in-process index starts empty and learns of later ones only by reading them again. A doc
   * whose hash the index already holds is not loaded twice.
   */
  async function loadDecisions(): Promise<void> {
    // A transaction's now() is when it began, so a doc committed after one read can carry an
    // earlier updated_at than that read saw: look a minute further back than the newest one.
    const rows = await sql<{ id: string; hash: string; updated_at: Date }[]>`
      select id, hash, updated_at from search_docs where kind = 'decision' and embedder = ${deps.embedder.name}
      ${decisionsSince ? sql`and updated_at > ${decisionsSince}::timestamptz - interval '1 minute'` : sql``}`;
    if (rows.length === 0) return;
    const entries = decisionsSince ? await deps.index.get(rows.map((r) => r.id)) : await deps.index.list({ kind: "decision" });
    const inIndex = new Map(entries.map((e) => [e.id, e.payload.hash]));
    const stale = rows.filter((r) => inIndex.get(r.id) !== r.hash).map((r) => r.id);
    for (let i = 0; i < stale.length; i += 256) await deps.index.upsert((await loadDocs(sql, stale.slice(i, i + 256))).map(toIndexed));
    for (const r of rows) if (!decisionsSince || r.updated_at > decisionsSince) decisionsSince = r.updated_at;
  }

  const service: RunbookService = {
    library: () => library,
    version: () => version,
    sync,
    match(alert, options = {}) {
      return matchRunbooks({ library, index: deps.index, embedder: deps.embedder }, alert, { minSimilarity: deps.minSimilarity, ...options });
    },
    async search(alert) {
      // Runbooks and decisions are searched with the same query: embedded once (with Ollama, one
      // round trip, made while the card's transaction is open).
      const query = await embedAlertQuery(deps.embedder, alert);
      const matches = await matchRunbooks({ library, index: deps.index, embedder: deps.embedder }, alert, { minSimilarity: deps.minSimilarity }, query);
      const last = await lastTime(deps, alert, { minSimilarity: Math.max(0.8, deps.minSimilarity) }, query);
      return { matches, lastTime: last };
    },
    async suggest(alert) {
      return service.decorate(await service.search(alert));
    },
    async decorate({ matches, lastTime: last }, db: Tx = sql) {
      const ids = matches.map((m) => m.runbookId);
      const levels = new Map<string, TrustLevel>();
      if (ids.length > 0) {
        for (const r of await db<{ id: string; level: TrustLevel }[]>`select id, level from runbooks where id in ${db(ids)}`) levels.set(r.id, r.level);
      }
      const records = await trackRecords(db, ids);
      const suggestions = matches.map((m) => ({
        ...m,
        level: m.kind === "page" ? ("page" as const) : (levels.get(m.runbookId) ?? library.byId(m.runbookId)?.startingLevel ?? "manual"),
        record: records.get(m.runbookId),
      }));
      const title = last?.runbookId ? (library.byId(last.runbookId)?.title ?? null) : null;
      return { suggestions, lastTime: last ? describeLastTime(last, title) : undefined };
    },
    indexDecision: (decisionId) => indexDecision(deps, decisionId),
    async indexPendingDecisions(limit = 200) {
      let indexed = 0;
      for (const id of await pendingDecisions(sql, deps.embedder, limit)) {
        try {
          await indexDecision(deps, id);
          indexed++;
        } catch (error) {
          logger.warn({ err: error, decisionId: id }, "could not index a decision");
        }
      }
      return indexed;
    },
    async start(options = {}) {
      await sync();
      await loadDecisions();
      // Qdrant is one index for every process; an in-process one is this process's alone.
      if (deps.index.kind === "embedded") {
        decisionsTimer = setInterval(() => {
          loadingDecisions ??= loadDecisions()
            .catch((error) => logger.warn({ err: error }, "could not read newly indexed decisions"))
            .finally(() => (loadingDecisions = undefined));
        }, deps.decisionsEveryMs ?? 30_000);
        decisionsTimer.unref();
      }
      if (options.watch ?? true) {
        unwatch = watchDir(
          deps.dir,
          logger,
          () => void sync().catch((error) => logger.error({ err: error }, "runbook sync failed")),
          "run `topicops runbooks sync` after changes",
        );
      }
    },
    async stop() {
      unwatch?.();
      clearInterval(decisionsTimer);
      await loadingDecisions;
      await syncing?.catch(() => {});
      await deps.index.close?.();
    },
  };
  return service;
}
