import { createHash } from "node:crypto";
import type { Tx } from "../db/client.ts";
import { DOCUMENT_FORMAT } from "./documents.ts";
import type { Embedder } from "./search/embedder.ts";
import { SPARSE_ENCODER_NAME } from "./search/sparse.ts";
import type { DocKind, IndexedDoc } from "./search/vector-index.ts";

/**
 * What a stored embedding was made from: the content, the embedder, the sparse encoder and the
 * document format. A change to any of them changes the hash, and the document is embedded again.
 */
export function searchDocHash(content: string, embedder: Pick<Embedder, "name">): string {
  return createHash("sha256").update(`${content}\n${embedder.name}\n${SPARSE_ENCODER_NAME}\n${DOCUMENT_FORMAT}`).digest("hex").slice(0, 32);
}

/** Rows per statement: a multi-row insert binds 7 parameters a row, and Postgres allows 65,535. */
const ROWS_PER_STATEMENT = 1000;

/**
 * Stores embedded documents in `search_docs`, where every process's index is filled from, in as
 * few statements as the parameter limit allows. Each one's kind and hash are the ones in its payload
 * (every indexed document carries both). The ids must be distinct.
 */
export async function upsertSearchDocs(db: Tx, embedder: Pick<Embedder, "name">, docs: readonly IndexedDoc[]): Promise<void> {
  for (let i = 0; i < docs.length; i += ROWS_PER_STATEMENT) {
    const rows = docs.slice(i, i + ROWS_PER_STATEMENT).map((doc) => ({
      id: doc.id,
      kind: doc.payload.kind as DocKind,
      embedder: embedder.name,
      hash: String(doc.payload.hash),
      dense: doc.dense,
      sparse: db.json(doc.sparse as never),
      payload: db.json(doc.payload as never),
    }));
    await db`
      insert into search_docs ${db(rows, "id", "kind", "embedder", "hash", "dense", "sparse", "payload")}
      on conflict (id) do update set embedder = excluded.embedder, hash = excluded.hash, dense = excluded.dense,
        sparse = excluded.sparse, payload = excluded.payload, updated_at = now()`;
  }
}
