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

/**
 * Stores an embedded document in `search_docs`, where every process's index is filled from. Its
 * kind and hash are the ones in its payload (every indexed document carries both).
 */
export async function upsertSearchDoc(db: Tx, embedder: Pick<Embedder, "name">, doc: IndexedDoc): Promise<void> {
  const kind = doc.payload.kind as DocKind;
  const hash = String(doc.payload.hash);
  await db`
    insert into search_docs (id, kind, embedder, hash, dense, sparse, payload)
    values (${doc.id}, ${kind}, ${embedder.name}, ${hash}, ${doc.dense}, ${db.json(doc.sparse as never)}, ${db.json(doc.payload as never)})
    on conflict (id) do update set embedder = excluded.embedder, hash = excluded.hash, dense = excluded.dense,
      sparse = excluded.sparse, payload = excluded.payload, updated_at = now()`;
}
