import { AppError } from "../../errors.ts";

/**
 * The vector index behind runbook matching: Qdrant in production, an in-process index when no
 * Qdrant is configured. Both must rank the same documents the same way, so the hybrid semantics
 * (what is prefetched, how IDF and RRF are computed, how ties break) live here and both
 * implementations follow them; the contract tests in test/runbooks/search hold them to it.
 *
 * Hybrid query, as Qdrant's Query API runs it (`prefetch` + `query: { fusion: "rrf" }`):
 * 1. Dense prefetch: the `prefetch` docs passing the filter with the highest cosine similarity.
 * 2. Sparse prefetch: the `prefetch` docs passing the filter that share a term with the query,
 *    by Σ query weight × doc weight × IDF(term). IDF is Qdrant's
 *    `ln((N − n + 0.5) / (n + 0.5) + 1)` with N and n counted over the whole collection, not
 *    over the docs that pass the filter (Qdrant gathers the statistics from the segments' posting
 *    lists before filtering).
 * 3. Reciprocal rank fusion: each doc scores Σ 1 / (k + rank) over the prefetches it appears in,
 *    rank 0-based, k = 2 (Qdrant's default), in 32-bit floats as Qdrant computes them. A doc in
 *    neither prefetch is not a candidate at all.
 * 4. Order: fused score descending, then our string id ascending (Qdrant leaves ties unordered).
 */

export interface SparseVector {
  /** Unsigned 32-bit term ids, sorted ascending, unique. */
  indices: number[];
  values: number[];
}

export type DocKind = "runbook" | "decision";
export const docKinds: readonly DocKind[] = ["runbook", "decision"];

export interface IndexedDoc {
  /** Our id (e.g. `runbook:KubePodCrashLooping`); any string, mapped to a point id by the Qdrant adapter. */
  id: string;
  dense: number[];
  sparse: SparseVector;
  /** Must hold `kind` (a DocKind) and `hash` (a string). `doc_id` is reserved for the Qdrant adapter. */
  payload: Record<string, unknown>;
}

/**
 * Payload equality per key, or any-of for an array; every key must hold. Values are strings,
 * booleans or integers (what Qdrant's `match` compares); an array holds only strings or only
 * integers, and an empty array matches nothing. A payload value that is itself an array matches
 * when any of its elements does, as in Qdrant. Keys may be dotted paths into nested objects.
 */
export type Filter = Record<string, string | number | boolean | ReadonlyArray<string | number>>;

export interface Hit {
  id: string;
  /** Fused RRF score. */
  score: number;
  /** Cosine of the query's and the doc's dense vectors, −1..1. */
  similarity: number;
  payload: Record<string, unknown>;
}

export interface IndexEntry {
  id: string;
  payload: Record<string, unknown>;
}

export interface HybridQuery {
  dense: number[];
  sparse: SparseVector;
  limit: number;
  filter?: Filter;
  /** Candidates per prefetch; default max(limit × 4, 20). */
  prefetch?: number;
}

/** What `ensure` did, so a caller knows it must re-embed everything after a recreate. */
export interface EnsureResult {
  action: "created" | "recreated" | "unchanged";
  dims: number;
  /** The dimension the index had before a recreate. */
  previousDims?: number;
}

export interface VectorIndex {
  readonly kind: "embedded" | "qdrant";
  /** Creates the collection/structures; if `dims` changed, drops everything and recreates. Call before anything else. */
  ensure(dims: number): Promise<EnsureResult>;
  /** Inserts or replaces by id. All docs are validated before any is written. */
  upsert(docs: IndexedDoc[]): Promise<void>;
  /** Unknown ids are ignored. */
  remove(ids: string[]): Promise<void>;
  /** The docs that exist, in the order asked for, each once. */
  get(ids: string[]): Promise<IndexEntry[]>;
  /** Every doc (id + payload) passing the filter, ordered by id: what sync compares against. */
  list(filter?: Filter): Promise<IndexEntry[]>;
  query(q: HybridQuery): Promise<Hit[]>;
  count(filter?: Filter): Promise<number>;
  close?(): Promise<void>;
}

/** Qdrant's default RRF constant (`DEFAULT_RRF_K` in its source; `rrf.k` in the Query API). */
export const RRF_K = 2;

export function defaultPrefetch(limit: number): number {
  return Math.max(limit * 4, 20);
}

/** One list's contribution for a 0-based rank, as the f32 Qdrant computes. */
export function rrfContribution(rank: number, k: number = RRF_K): number {
  return Math.fround(1 / Math.fround(rank + k));
}

/**
 * Fused scores of ranked id lists (best first), summed in f32 in list order like Qdrant, so the
 * embedded index and Qdrant agree to the last bit on the same ranks.
 */
export function fuseRrf(rankings: ReadonlyArray<readonly string[]>, k: number = RRF_K): Map<string, number> {
  const scores = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, rank) => {
      scores.set(id, Math.fround((scores.get(id) ?? 0) + rrfContribution(rank, k)));
    });
  }
  return scores;
}

/** Qdrant's IDF for the `idf` modifier, in f32: `ln((N − n + 0.5) / (n + 0.5) + 1)`. */
export function idf(totalDocs: number, docFrequency: number): number {
  const n = Math.fround(totalDocs);
  const df = Math.fround(docFrequency);
  return Math.fround(Math.log(Math.fround(Math.fround(Math.fround(n - df + 0.5) / Math.fround(df + 0.5)) + 1)));
}

/** Code-unit order, not locale order: the same on every machine. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareScored(a: { score: number; id: string }, b: { score: number; id: string }): number {
  return b.score - a.score || compareIds(a.id, b.id);
}

function lookup(payload: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(payload, key)) return payload[key];
  let value: unknown = payload;
  for (const part of key.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function matchesFilter(payload: Record<string, unknown>, filter: Filter | undefined): boolean {
  if (!filter) return true;
  for (const [key, wanted] of Object.entries(filter)) {
    const stored = lookup(payload, key);
    const values = Array.isArray(stored) ? stored : [stored];
    const ok = Array.isArray(wanted)
      ? values.some((v) => (wanted as ReadonlyArray<unknown>).includes(v))
      : values.some((v) => v === wanted);
    if (!ok) return false;
  }
  return true;
}

function invalid(message: string): AppError {
  return new AppError("invalid_payload", message);
}

export function validateFilter(filter: Filter | undefined): void {
  if (!filter) return;
  for (const [key, wanted] of Object.entries(filter)) {
    if (key.length === 0) throw invalid("filter keys must not be empty");
    const check = (v: unknown) => {
      if (typeof v === "number" && !Number.isSafeInteger(v)) {
        throw invalid(`filter "${key}": numbers must be integers (Qdrant matches integers, not floats), got ${v}`);
      }
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
        throw invalid(`filter "${key}": values must be strings, integers or booleans`);
      }
    };
    if (Array.isArray(wanted)) {
      const list = wanted as ReadonlyArray<unknown>;
      list.forEach(check);
      const kinds = new Set(list.map((v) => typeof v));
      if (kinds.size > 1 || kinds.has("boolean")) {
        throw invalid(`filter "${key}": an any-of list holds only strings or only integers`);
      }
    } else {
      check(wanted);
    }
  }
}

/** A filter whose any-of list is empty can match nothing; callers skip the round trip. */
export function filterMatchesNothing(filter: Filter | undefined): boolean {
  return filter !== undefined && Object.values(filter).some((v) => Array.isArray(v) && v.length === 0);
}

export function validateDense(dense: readonly number[], dims: number, what: string): void {
  if (!Array.isArray(dense) || dense.length !== dims) {
    throw invalid(`${what}: dense vector has ${Array.isArray(dense) ? dense.length : "no"} dimensions, the index has ${dims}`);
  }
  let norm = 0;
  for (const x of dense) {
    if (typeof x !== "number" || !Number.isFinite(x)) throw invalid(`${what}: dense vector has a non-finite value`);
    norm += x * x;
  }
  if (norm === 0) throw invalid(`${what}: dense vector is all zeros (cosine is undefined)`);
}

/**
 * Checks a sparse vector and returns it sorted with zero weights dropped. Zeros are dropped so a
 * doc never sits in a posting list it contributes nothing to (Qdrant would keep it there and count
 * it for IDF); negative weights are refused because BM25 never makes them and they would let a
 * shared term push a doc down.
 */
export function normalizeSparse(sparse: SparseVector, what: string): SparseVector {
  const { indices, values } = sparse ?? {};
  if (!Array.isArray(indices) || !Array.isArray(values) || indices.length !== values.length) {
    throw invalid(`${what}: sparse vector needs indices and values of the same length`);
  }
  const pairs: [number, number][] = [];
  const seen = new Set<number>();
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    const value = values[i]!;
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
      throw invalid(`${what}: sparse index ${index} is not an unsigned 32-bit integer`);
    }
    if (seen.has(index)) throw invalid(`${what}: sparse index ${index} appears twice`);
    seen.add(index);
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw invalid(`${what}: sparse value for index ${index} must be a finite non-negative number`);
    }
    if (value > 0) pairs.push([index, value]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { indices: pairs.map((p) => p[0]), values: pairs.map((p) => p[1]) };
}

export function validateDoc(doc: IndexedDoc, dims: number): SparseVector {
  if (typeof doc?.id !== "string" || doc.id.length === 0) throw invalid("every doc needs a non-empty string id");
  const what = `doc ${doc.id}`;
  validateDense(doc.dense, dims, what);
  const payload = doc.payload;
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) throw invalid(`${what}: payload must be an object`);
  if (!docKinds.includes(payload.kind as DocKind)) throw invalid(`${what}: payload.kind must be one of ${docKinds.join(", ")}`);
  if (typeof payload.hash !== "string") throw invalid(`${what}: payload.hash must be a string`);
  if (Object.hasOwn(payload, "doc_id")) throw invalid(`${what}: payload.doc_id is reserved`);
  return normalizeSparse(doc.sparse, what);
}

export function validateDims(dims: number): void {
  if (!Number.isSafeInteger(dims) || dims < 1 || dims > 65_536) throw invalid(`vector dimensions must be an integer 1..65536, got ${dims}`);
}

/** Limit and prefetch size after validation; a limit of 0 asks for nothing. */
export function validateQuery(q: HybridQuery, dims: number): { limit: number; prefetch: number; sparse: SparseVector } {
  if (!Number.isSafeInteger(q.limit) || q.limit < 0) throw invalid(`query limit must be a non-negative integer, got ${q.limit}`);
  const prefetch = q.prefetch ?? defaultPrefetch(q.limit);
  if (!Number.isSafeInteger(prefetch) || prefetch < 1) throw invalid(`query prefetch must be a positive integer, got ${q.prefetch}`);
  validateDense(q.dense, dims, "query");
  validateFilter(q.filter);
  return { limit: q.limit, prefetch, sparse: normalizeSparse(q.sparse, "query") };
}

/** A JSON round trip: payloads come back exactly as Qdrant would return them, and callers cannot alias stored state. */
export function clonePayload(payload: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
}

/** Unit-length copy in 32-bit floats, the way Qdrant stores vectors for the Cosine distance. */
export function normalizeToFloat32(vector: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, offsetB = 0): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[offsetB + i]!;
  return sum;
}
