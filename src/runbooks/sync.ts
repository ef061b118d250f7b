import { createHash } from "node:crypto";
import type { Sql } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { DOCUMENT_FORMAT, runbookDocument } from "./documents.ts";
import type { Embedder } from "./search/embedder.ts";
import { encodeDocument } from "./search/sparse.ts";
import { searchDocHash, upsertSearchDocs } from "./search-docs.ts";
import type { IndexedDoc, SparseVector, VectorIndex } from "./search/vector-index.ts";
import type { Runbook, RunbookLibrary } from "./types.ts";

export const runbookDocId = (id: string) => `runbook:${id}`;

export interface SyncReport {
  runbooks: number;
  embedded: number;
  indexed: number;
  removed: number;
  problems: number;
  /** Index rebuilt from scratch (created, or its dimension changed). */
  rebuilt: boolean;
}

interface StoredDoc {
  id: string;
  hash: string;
  dense: number[];
  sparse: SparseVector;
  payload: Record<string, unknown>;
}

/** 7 parameters a row, well under Postgres's 65,535 a statement. */
const RUNBOOK_ROWS_PER_STATEMENT = 1000;

/** Arbitrary constant: replicas take turns embedding, so a change is embedded once. */
const SYNC_LOCK = 7_341_003;

/**
 * Brings Postgres (the `runbooks` rows and the embeddings in `search_docs`) and the vector index in
 * line with the library on disk. Only a runbook whose content, the embedder or the document format
 * changed is embedded again; a removed file leaves the index (its `runbooks` row stays, marked
 * removed, because decisions refer to it and its level is kept should it come back).
 */
export async function syncRunbooks(deps: { sql: Sql; embedder: Embedder; index: VectorIndex; logger: Logger }, library: RunbookLibrary): Promise<SyncReport> {
  const { sql, embedder, index, logger } = deps;
  const desired = new Map(library.runbooks.map((rb) => [runbookDocId(rb.id), { runbook: rb, hash: runbookHash(rb, embedder) }]));

  const embedded = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${SYNC_LOCK})`;
    // Several rows a statement (ids are unique in a library, which one statement needs), the
    // level only on insert: the one a runbook has earned is kept.
    for (let i = 0; i < library.runbooks.length; i += RUNBOOK_ROWS_PER_STATEMENT) {
      const rows = library.runbooks.slice(i, i + RUNBOOK_ROWS_PER_STATEMENT).map((rb) => ({
        id: rb.id,
        file: rb.file,
        title: rb.title,
        kind: rb.kind,
        risk: rb.risk,
        content_hash: rb.contentHash,
        level: rb.startingLevel,
      }));
      await tx`
        insert into runbooks ${tx(rows, "id", "file", "title", "kind", "risk", "content_hash", "level")}
        on conflict (id) do update set file = excluded.file, title = excluded.title, kind = excluded.kind, risk = excluded.risk,
          content_hash = excluded.content_hash, removed_at = null, updated_at = now()`;
    }
    const ids = library.runbooks.map((rb) => rb.id);
    await tx`update runbooks set removed_at = now() where removed_at is null ${ids.length > 0 ? tx`and id not in ${tx(ids)}` : tx``}`;

    const stored = await tx<{ id: string; hash: string }[]>`
      select id, hash from search_docs where kind = 'runbook' and embedder = ${embedder.name}`;
    const have = new Map(stored.map((s) => [s.id, s.hash]));
    const stale = [...desired].filter(([id, d]) => have.get(id) !== d.hash);
    for (let i = 0; i < stale.length; i += EMBED_BATCH) {
      await upsertSearchDocs(tx, embedder, await embedRunbookDocs(embedder, stale.slice(i, i + EMBED_BATCH).map(([, d]) => d.runbook)));
    }
    const keep = [...desired.keys()];
    await tx`delete from search_docs where kind = 'runbook' ${keep.length > 0 ? tx`and id not in ${tx(keep)}` : tx``}`;
    return stale.length;
  });

  const ensured = await index.ensure(embedder.dims);
  const rebuilt = ensured.action !== "unchanged";
  const inIndex = new Map((await index.list({ kind: "runbook" })).map((e) => [e.id, e.payload.hash]));
  const toIndex = [...desired].filter(([id, d]) => inIndex.get(id) !== d.hash).map(([id]) => id);
  const removed = [...inIndex.keys()].filter((id) => !desired.has(id));
  if (removed.length > 0) await index.remove(removed);
  let indexed = 0;
  for (let i = 0; i < toIndex.length; i += 256) {
    const rows = await loadDocs(sql, toIndex.slice(i, i + 256));
    await index.upsert(rows.map(toIndexed));
    indexed += rows.length;
  }
  const report = { runbooks: library.runbooks.length, embedded, indexed, removed: removed.length, problems: library.problems.length, rebuilt };
  logger.info({ ...report, embedder: embedder.name, index: index.kind }, "runbooks synced");
  return report;
}

export async function loadDocs(sql: Sql, ids: string[]): Promise<StoredDoc[]> {
  if (ids.length === 0) return [];
  return sql<StoredDoc[]>`select id, hash, dense, sparse, payload from search_docs where id in ${sql(ids)}`;
}

export function toIndexed(doc: StoredDoc): IndexedDoc {
  return { id: doc.id, dense: doc.dense.map(Number), sparse: doc.sparse, payload: doc.payload };
}

function runbookHash(rb: Runbook, embedder: Embedder): string {
  return searchDocHash(rb.contentHash, embedder);
}

/** Runbooks asked of the embedder at once. */
const EMBED_BATCH = 32;

/** Runbooks as the index holds them: each document built once, embedded dense and sparse. */
async function embedRunbookDocs(embedder: Embedder, runbooks: readonly Runbook[]): Promise<IndexedDoc[]> {
  const texts = runbooks.map(runbookDocument);
  const vectors = await embedder.embedDocuments(texts);
  return runbooks.map((rb, j) => ({
    id: runbookDocId(rb.id),
    dense: vectors[j]!,
    sparse: encodeDocument(texts[j]!),
    payload: runbookPayload(rb, runbookHash(rb, embedder)),
  }));
}

/**
 * An index over a library without Postgres: what `topicops runbooks match` uses to answer from the
 * files alone. Same documents and vectors as the service's.
 */
export async function indexLibrary(embedder: Embedder, index: VectorIndex, library: RunbookLibrary): Promise<void> {
  await index.ensure(embedder.dims);
  for (let i = 0; i < library.runbooks.length; i += EMBED_BATCH) {
    await index.upsert(await embedRunbookDocs(embedder, library.runbooks.slice(i, i + EMBED_BATCH)));
  }
}

function runbookPayload(rb: Runbook, hash: string): Record<string, unknown> {
  return { kind: "runbook", hash, runbook_id: rb.id, title: rb.title, risk: rb.risk, page: rb.kind === "page" };
}

/** Identifies the library a set of matches was computed against. */
export function libraryVersion(library: RunbookLibrary): string {
  const h = createHash("sha256").update(DOCUMENT_FORMAT);
  for (const rb of [...library.runbooks].sort((a, b) => a.id.localeCompare(b.id))) h.update(`${rb.id}:${rb.contentHash}\n`);
  return h.digest("hex").slice(0, 16);
}
