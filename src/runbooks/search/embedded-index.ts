import { AppError } from "../../errors.ts";
import {
  clonePayload,
  compareIds,
  compareScored,
  dot,
  filterMatchesNothing,
  fuseRrf,
  idf,
  matchesFilter,
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
  type SparseVector,
  type VectorIndex,
} from "./vector-index.ts";

export interface EmbeddedIndex extends VectorIndex {
  readonly kind: "embedded";
  /** Rough heap footprint of what the index holds, for the health page and capacity planning. */
  memoryBytes(): number;
}

/** Rough per-entry costs of V8 structures, for `memoryBytes()` only. */
const MAP_ENTRY_BYTES = 48;
const DOC_OVERHEAD_BYTES = 160;

/**
 * The index when no Qdrant is configured: everything in this process, nothing on disk (each
 * process fills it at start from the embeddings kept in Postgres). Vectors are unit-length Float32
 * rows of one growing buffer, so cosine is a dot product over contiguous memory; sparse terms have
 * an inverted index whose posting-list sizes are the document frequencies IDF needs. Removal
 * swaps the last row into the hole, keeping rows dense. Measured (`npm run bench -- search-latency`):
 * 10,000 runbooks take about 90 MB (the sparse postings most of it; the vectors are 20 MB) and a
 * hybrid query 12-16 ms.
 */
export function createEmbeddedIndex(): EmbeddedIndex {
  let dims = 0;
  let count = 0;
  let capacity = 0;
  let vectors = new Float32Array(0);
  const ids: string[] = [];
  const payloads: Record<string, unknown>[] = [];
  const payloadBytes: number[] = [];
  const sparseRows: SparseVector[] = [];
  const slotOf = new Map<string, number>();
  /** term → (doc id → weight); the inner map's size is the term's document frequency. */
  const postings = new Map<number, Map<string, number>>();
  let postingEntries = 0;
  let heldPayloadBytes = 0;

  function requireEnsured(): void {
    if (dims === 0) throw new AppError("internal", "embedded vector index used before ensure(dims)");
  }

  function grow(needed: number): void {
    if (needed <= capacity) return;
    let next = Math.max(capacity * 2, 64);
    while (next < needed) next *= 2;
    const bigger = new Float32Array(next * dims);
    bigger.set(vectors.subarray(0, count * dims));
    vectors = bigger;
    capacity = next;
  }

  function addPostings(id: string, sparse: SparseVector): void {
    sparse.indices.forEach((term, i) => {
      let list = postings.get(term);
      if (!list) postings.set(term, (list = new Map()));
      list.set(id, sparse.values[i]!);
      postingEntries++;
    });
  }

  function dropPostings(id: string, sparse: SparseVector): void {
    for (const term of sparse.indices) {
      const list = postings.get(term);
      if (list?.delete(id)) postingEntries--;
      if (list && list.size === 0) postings.delete(term);
    }
  }

  function put(doc: IndexedDoc, sparse: SparseVector): void {
    const json = JSON.stringify(doc.payload);
    const payload = JSON.parse(json) as Record<string, unknown>;
    let slot = slotOf.get(doc.id);
    if (slot === undefined) {
      grow(count + 1);
      slot = count++;
      slotOf.set(doc.id, slot);
      ids[slot] = doc.id;
    } else {
      dropPostings(doc.id, sparseRows[slot]!);
      heldPayloadBytes -= payloadBytes[slot]!;
    }
    vectors.set(normalizeToFloat32(doc.dense), slot * dims);
    payloads[slot] = payload;
    payloadBytes[slot] = json.length * 2;
    heldPayloadBytes += json.length * 2;
    sparseRows[slot] = sparse;
    addPostings(doc.id, sparse);
  }

  function drop(id: string): void {
    const slot = slotOf.get(id);
    if (slot === undefined) return;
    dropPostings(id, sparseRows[slot]!);
    heldPayloadBytes -= payloadBytes[slot]!;
    slotOf.delete(id);
    const last = --count;
    if (slot !== last) {
      vectors.copyWithin(slot * dims, last * dims, (last + 1) * dims);
      const movedId = ids[last]!;
      ids[slot] = movedId;
      payloads[slot] = payloads[last]!;
      payloadBytes[slot] = payloadBytes[last]!;
      sparseRows[slot] = sparseRows[last]!;
      slotOf.set(movedId, slot);
    }
    ids.length = count;
    payloads.length = count;
    payloadBytes.length = count;
    sparseRows.length = count;
  }

  function reset(newDims: number): void {
    dims = newDims;
    count = 0;
    capacity = 0;
    vectors = new Float32Array(0);
    ids.length = 0;
    payloads.length = 0;
    payloadBytes.length = 0;
    sparseRows.length = 0;
    slotOf.clear();
    postings.clear();
    postingEntries = 0;
    heldPayloadBytes = 0;
  }

  function passing(filter: Filter | undefined): Uint8Array | undefined {
    if (!filter || Object.keys(filter).length === 0) return undefined;
    const pass = new Uint8Array(count);
    for (let slot = 0; slot < count; slot++) pass[slot] = matchesFilter(payloads[slot]!, filter) ? 1 : 0;
    return pass;
  }

  /** Best `k` of the scored slots, by score then id; an insertion list is cheap while k ≪ n. */
  function topK(k: number, scored: Iterable<[number, number]>): string[] {
    const best: { id: string; score: number }[] = [];
    for (const [slot, score] of scored) {
      const candidate = { id: ids[slot]!, score };
      if (best.length === k && compareScored(candidate, best[k - 1]!) >= 0) continue;
      let at = best.length;
      while (at > 0 && compareScored(candidate, best[at - 1]!) < 0) at--;
      best.splice(at, 0, candidate);
      if (best.length > k) best.pop();
    }
    return best.map((b) => b.id);
  }

  function* denseScores(query: Float32Array, pass: Uint8Array | undefined): Generator<[number, number]> {
    for (let slot = 0; slot < count; slot++) {
      if (pass && pass[slot] === 0) continue;
      yield [slot, Math.fround(dot(query, vectors, slot * dims))];
    }
  }

  function sparseScores(query: SparseVector, pass: Uint8Array | undefined): Map<number, number> {
    const scores = new Map<number, number>();
    query.indices.forEach((term, i) => {
      const list = postings.get(term);
      if (!list) return;
      // Qdrant scales the query weight by IDF once, then accumulates weight × doc value in f32.
      const weight = Math.fround(query.values[i]! * idf(count, list.size));
      for (const [id, value] of list) {
        const slot = slotOf.get(id)!;
        if (pass && pass[slot] === 0) continue;
        scores.set(slot, Math.fround((scores.get(slot) ?? 0) + Math.fround(weight * value)));
      }
    });
    return scores;
  }

  const index: EmbeddedIndex = {
    kind: "embedded",

    async ensure(newDims: number): Promise<EnsureResult> {
      validateDims(newDims);
      if (dims === newDims) return { action: "unchanged", dims };
      const previous = dims;
      reset(newDims);
      return previous === 0 ? { action: "created", dims } : { action: "recreated", dims, previousDims: previous };
    },

    async upsert(docs: IndexedDoc[]): Promise<void> {
      requireEnsured();
      const sparse = docs.map((doc) => validateDoc(doc, dims));
      docs.forEach((doc, i) => put(doc, sparse[i]!));
    },

    async remove(removeIds: string[]): Promise<void> {
      requireEnsured();
      for (const id of removeIds) drop(id);
    },

    async get(getIds: string[]): Promise<IndexEntry[]> {
      requireEnsured();
      const out: IndexEntry[] = [];
      const seen = new Set<string>();
      for (const id of getIds) {
        const slot = slotOf.get(id);
        if (slot === undefined || seen.has(id)) continue;
        seen.add(id);
        out.push({ id, payload: clonePayload(payloads[slot]!) });
      }
      return out;
    },

    async list(filter?: Filter): Promise<IndexEntry[]> {
      requireEnsured();
      validateFilter(filter);
      if (filterMatchesNothing(filter)) return [];
      const out: IndexEntry[] = [];
      for (let slot = 0; slot < count; slot++) {
        if (matchesFilter(payloads[slot]!, filter)) out.push({ id: ids[slot]!, payload: clonePayload(payloads[slot]!) });
      }
      return out.sort((a, b) => compareIds(a.id, b.id));
    },

    async count(filter?: Filter): Promise<number> {
      requireEnsured();
      validateFilter(filter);
      if (!filter) return count;
      if (filterMatchesNothing(filter)) return 0;
      let n = 0;
      for (let slot = 0; slot < count; slot++) if (matchesFilter(payloads[slot]!, filter)) n++;
      return n;
    },

    async query(q): Promise<Hit[]> {
      requireEnsured();
      const { limit, prefetch, sparse } = validateQuery(q, dims);
      if (limit === 0 || count === 0 || filterMatchesNothing(q.filter)) return [];
      const query = normalizeToFloat32(q.dense);
      const pass = passing(q.filter);
      const denseRanking = topK(prefetch, denseScores(query, pass));
      const sparseRanking = topK(prefetch, sparseScores(sparse, pass));
      const fused = [...fuseRrf([denseRanking, sparseRanking])].map(([id, score]) => ({ id, score }));
      return fused
        .sort(compareScored)
        .slice(0, limit)
        .map(({ id, score }) => {
          const slot = slotOf.get(id)!;
          const similarity = Math.max(-1, Math.min(1, dot(query, vectors, slot * dims)));
          return { id, score, similarity, payload: clonePayload(payloads[slot]!) };
        });
    },

    memoryBytes(): number {
      let idBytes = 0;
      for (const id of ids) idBytes += id.length * 2;
      return (
        vectors.byteLength +
        idBytes +
        heldPayloadBytes +
        count * DOC_OVERHEAD_BYTES +
        slotOf.size * MAP_ENTRY_BYTES +
        postings.size * MAP_ENTRY_BYTES +
        postingEntries * (MAP_ENTRY_BYTES + 16)
      );
    },
  };
  return index;
}
