import { createHash } from "node:crypto";
import { QdrantClient } from "@qdrant/js-client-rest";
import { AppError } from "../../errors.ts";
import { networkReason } from "./network-error.ts";
import {
  compareIds,
  compareScored,
  dot,
  filterMatchesNothing,
  normalizeToFloat32,
  validateDims,
  validateDoc,
  validateFilter,
  validateQuery,
  type EnsureResult,
  type Filter,
  type Hit,
  type IndexEntry,
  type IndexedDoc,
  type VectorIndex,
} from "./vector-index.ts";

export interface QdrantIndexOptions {
  /** e.g. `http://qdrant:6333`. */
  url: string;
  apiKey?: string;
  collection?: string;
  /** A client built elsewhere (tests, or a shared one); otherwise one is built from `url` and `apiKey`. */
  client?: QdrantClient;
  /** Per request; Qdrant answers a small collection in milliseconds, so a long wait means trouble. */
  timeoutMs?: number;
}

export const DENSE_VECTOR = "dense";
export const SPARSE_VECTOR = "sparse";
/** Payload key holding our string id: Qdrant point ids must be unsigned integers or UUIDs. */
export const DOC_ID_KEY = "doc_id";

/** Points per upsert/delete request: well under Qdrant's 32 MiB body limit even at 4,096 dims. */
const WRITE_BATCH = 256;
const SCROLL_PAGE = 256;

/** Fixed namespace for our ids' UUIDs; changing it orphans every stored point. */
const ID_NAMESPACE = Buffer.from("4f0c7d1a9b2e4c6f8a3d5e7b9c1f2a40", "hex");

/**
 * Our string id as a UUID: a name-based (version 5, SHA-1) UUID in a fixed namespace, so the same
 * id always lands on the same point and an upsert replaces instead of duplicating.
 */
export function pointIdFor(id: string): string {
  const bytes = createHash("sha1").update(ID_NAMESPACE).update(id, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type QdrantFilter = { must: ({ key: string; match: { value: string | number | boolean } | { any: (string | number)[] } })[] };

function toQdrantFilter(filter: Filter | undefined): QdrantFilter | undefined {
  if (!filter || Object.keys(filter).length === 0) return undefined;
  return {
    must: Object.entries(filter).map(([key, wanted]) =>
      Array.isArray(wanted) ? { key, match: { any: [...(wanted as ReadonlyArray<string | number>)] } } : { key, match: { value: wanted as string | number | boolean } },
    ),
  };
}

/** The URL without credentials, for messages. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "(invalid Qdrant URL)";
  }
}

interface HttpFailure {
  status: number;
  data?: unknown;
}

function httpFailure(error: unknown): HttpFailure | undefined {
  if (error !== null && typeof error === "object" && typeof (error as { status?: unknown }).status === "number") {
    return error as HttpFailure;
  }
  return undefined;
}

function qdrantMessage(data: unknown): string | undefined {
  const status = (data as { status?: unknown } | undefined)?.status;
  const message = (status as { error?: unknown } | undefined)?.error;
  return typeof message === "string" ? message : undefined;
}

/**
 * Qdrant behind the VectorIndex contract. One collection (`topicops` by default) holds runbooks
 * and decisions, told apart by the `kind` payload (keyword-indexed). Points carry a named dense
 * vector (`dense`, Cosine) and a named sparse vector (`sparse`, `modifier: "idf"`, so Qdrant
 * applies IDF to the BM25 document weights at query time).
 */
export function createQdrantIndex(options: QdrantIndexOptions): VectorIndex {
  const url = safeUrl(options.url);
  const collection = options.collection ?? "topicops";
  // The compatibility probe would be a request at construction time, with a console warning when
  // Qdrant is down; `ensure` talks to the server first anyway and reports that properly.
  const client =
    options.client ??
    new QdrantClient({ url: options.url, apiKey: options.apiKey, timeout: options.timeoutMs ?? 30_000, checkCompatibility: false });
  let dims = 0;

  function fail(error: unknown, what: string): AppError {
    if (error instanceof AppError) return error;
    const http = httpFailure(error);
    if (http) {
      const detail = qdrantMessage(http.data) ?? JSON.stringify(http.data ?? null).slice(0, 300);
      if (http.status === 400 || http.status === 422) {
        // Our request was malformed: retrying cannot help, so this must not look like an outage.
        return new AppError("internal", `Qdrant at ${url} rejected ${what} on collection "${collection}": ${detail}`, { cause: error });
      }
      if (http.status === 404) {
        return new AppError("unavailable", `Qdrant at ${url} has no collection "${collection}" (${what}); it was deleted, ensure() recreates it: ${detail}`, { cause: error });
      }
      return new AppError("unavailable", `Qdrant at ${url} failed ${what} on collection "${collection}": HTTP ${http.status} ${detail}`, { cause: error });
    }
    const name = (error as { name?: unknown } | undefined)?.name;
    if (name === "QdrantClientTimeoutError") return new AppError("unavailable", `Qdrant at ${url} timed out on ${what}`, { cause: error });
    return new AppError("unavailable", `Qdrant at ${url} is not reachable (${what}): ${networkReason(error)}`, { cause: error });
  }

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw fail(error, what);
    }
  }

  function requireEnsured(): void {
    if (dims === 0) throw new AppError("internal", "Qdrant vector index used before ensure(dims)");
  }

  async function createCollection(size: number): Promise<void> {
    await call("create collection", () =>
      client.createCollection(collection, {
        vectors: { [DENSE_VECTOR]: { size, distance: "Cosine" } },
        sparse_vectors: { [SPARSE_VECTOR]: { modifier: "idf" } },
      }),
    );
    await createKindIndex();
  }

  async function createKindIndex(): Promise<void> {
    await call("create payload index", () => client.createPayloadIndex(collection, { field_name: "kind", field_schema: "keyword", wait: true }));
  }

  async function describe(): Promise<{ dims: number | undefined; idf: boolean; kindIndexed: boolean } | undefined> {
    try {
      const info = await client.getCollection(collection);
      const vectors = info.config.params.vectors as Record<string, { size?: number } | undefined> | undefined;
      const sparse = info.config.params.sparse_vectors?.[SPARSE_VECTOR];
      return {
        dims: vectors?.[DENSE_VECTOR]?.size,
        idf: sparse?.modifier === "idf",
        kindIndexed: info.payload_schema?.kind !== undefined,
      };
    } catch (error) {
      if (httpFailure(error)?.status === 404) return undefined;
      throw fail(error, "read collection");
    }
  }

  async function retrieve(pointIds: string[], withVector: boolean) {
    return call("retrieve points", () =>
      client.retrieve(collection, { ids: pointIds, with_payload: true, with_vector: withVector ? [DENSE_VECTOR] : false }),
    );
  }

  function entryOf(point: { payload?: Record<string, unknown> | null }): IndexEntry | undefined {
    const payload = { ...(point.payload ?? {}) };
    const id = payload[DOC_ID_KEY];
    if (typeof id !== "string") return undefined; // not ours: someone else's point in a shared collection
    delete payload[DOC_ID_KEY];
    return { id, payload };
  }

  return {
    kind: "qdrant",

    async ensure(newDims: number): Promise<EnsureResult> {
      validateDims(newDims);
      const existing = await describe();
      if (!existing) {
        try {
          await createCollection(newDims);
        } catch (error) {
          // Another replica created it between our read and our create: use theirs if it fits.
          const again = await describe();
          if (!again || again.dims !== newDims || !again.idf) throw error;
        }
        dims = newDims;
        return { action: "created", dims };
      }
      if (existing.dims !== newDims || !existing.idf) {
        await call("delete collection", () => client.deleteCollection(collection));
        await createCollection(newDims);
        dims = newDims;
        return existing.dims === undefined ? { action: "recreated", dims } : { action: "recreated", dims, previousDims: existing.dims };
      }
      if (!existing.kindIndexed) await createKindIndex();
      dims = newDims;
      return { action: "unchanged", dims };
    },

    async upsert(docs: IndexedDoc[]): Promise<void> {
      requireEnsured();
      const points = docs.map((doc) => {
        const sparse = validateDoc(doc, dims);
        return {
          id: pointIdFor(doc.id),
          vector: { [DENSE_VECTOR]: doc.dense, [SPARSE_VECTOR]: sparse },
          payload: { ...doc.payload, [DOC_ID_KEY]: doc.id },
        };
      });
      for (let i = 0; i < points.length; i += WRITE_BATCH) {
        const batch = points.slice(i, i + WRITE_BATCH);
        await call("upsert points", () => client.upsert(collection, { wait: true, points: batch }));
      }
    },

    async remove(ids: string[]): Promise<void> {
      requireEnsured();
      const pointIds = ids.map(pointIdFor);
      for (let i = 0; i < pointIds.length; i += WRITE_BATCH) {
        const batch = pointIds.slice(i, i + WRITE_BATCH);
        await call("delete points", () => client.delete(collection, { wait: true, points: batch }));
      }
    },

    async get(ids: string[]): Promise<IndexEntry[]> {
      requireEnsured();
      const wanted = [...new Set(ids)];
      if (wanted.length === 0) return [];
      const byId = new Map<string, IndexEntry>();
      for (let i = 0; i < wanted.length; i += WRITE_BATCH) {
        for (const point of await retrieve(wanted.slice(i, i + WRITE_BATCH).map(pointIdFor), false)) {
          const entry = entryOf(point);
          if (entry) byId.set(entry.id, entry);
        }
      }
      return wanted.flatMap((id) => byId.get(id) ?? []);
    },

    async list(filter?: Filter): Promise<IndexEntry[]> {
      requireEnsured();
      validateFilter(filter);
      if (filterMatchesNothing(filter)) return [];
      const qFilter = toQdrantFilter(filter);
      const out: IndexEntry[] = [];
      let offset: string | number | undefined;
      for (;;) {
        const page = await call("scroll points", () =>
          client.scroll(collection, { filter: qFilter, limit: SCROLL_PAGE, offset, with_payload: true, with_vector: false }),
        );
        for (const point of page.points) {
          const entry = entryOf(point);
          if (entry) out.push(entry);
        }
        const next = page.next_page_offset;
        if (typeof next !== "string" && typeof next !== "number") break;
        offset = next;
      }
      return out.sort((a, b) => compareIds(a.id, b.id));
    },

    async count(filter?: Filter): Promise<number> {
      requireEnsured();
      validateFilter(filter);
      if (filterMatchesNothing(filter)) return 0;
      const result = await call("count points", () => client.count(collection, { filter: toQdrantFilter(filter), exact: true }));
      return result.count;
    },

    async query(q): Promise<Hit[]> {
      requireEnsured();
      const { limit, prefetch, sparse } = validateQuery(q, dims);
      if (limit === 0 || filterMatchesNothing(q.filter)) return [];
      const filter = toQdrantFilter(q.filter);
      // Ask for every fused candidate (at most both prefetches' worth), ids only: Qdrant leaves
      // equal RRF scores in no particular order, and ties are common (rank 0 dense-only vs rank 0
      // sparse-only), so the order by our id is applied here, before the limit.
      const fused = await call("query points", () =>
        client.query(collection, {
          prefetch: [
            { query: q.dense, using: DENSE_VECTOR, limit: prefetch, ...(filter ? { filter } : {}) },
            { query: sparse, using: SPARSE_VECTOR, limit: prefetch, ...(filter ? { filter } : {}) },
          ],
          query: { fusion: "rrf" },
          ...(filter ? { filter } : {}),
          limit: prefetch * 2,
          with_payload: [DOC_ID_KEY],
          with_vector: false,
        }),
      );
      const ranked = fused.points
        .flatMap((p) => {
          const id = p.payload?.[DOC_ID_KEY];
          // Scores travel as JSON decimals of Qdrant's f32; fround restores the exact f32 value.
          return typeof id === "string" ? [{ id, score: Math.fround(p.score), pointId: String(p.id) }] : [];
        })
        .sort(compareScored)
        .slice(0, limit);
      if (ranked.length === 0) return [];
      const points = await retrieve(
        ranked.map((r) => r.pointId),
        true,
      );
      const byPoint = new Map(points.map((p) => [String(p.id), p]));
      const query = normalizeToFloat32(q.dense);
      return ranked.flatMap(({ id, score, pointId }) => {
        const point = byPoint.get(pointId);
        const entry = point && entryOf(point);
        const vector = (point?.vector as Record<string, unknown> | undefined)?.[DENSE_VECTOR];
        if (!entry || !Array.isArray(vector)) return []; // removed between the two requests
        const similarity = Math.max(-1, Math.min(1, dot(query, normalizeToFloat32(vector as number[]))));
        return [{ id, score, similarity, payload: entry.payload }];
      });
    },
  };
}
