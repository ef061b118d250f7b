import { encodeDocument, encodeQuery } from "../../src/runbooks/search/sparse.ts";
import { idf, normalizeToFloat32 } from "../../src/runbooks/search/vector-index.ts";

/**
 * The simplest searches over the same vectors the index holds, to set the hybrid index against:
 * a brute-force cosine over the dense vectors (no sparse, no fusion), and BM25 alone over the same
 * sparse vectors with the same IDF. Written plainly on purpose: a baseline that is clever measures
 * the cleverness.
 */

export interface Ranked {
  id: string;
  score: number;
}

/** Dense vectors as unit-length Float32 rows of one buffer; a query is a dot product per row. */
export function createDenseBaseline(dims: number) {
  let rows = new Float32Array(0);
  const ids: string[] = [];
  return {
    add(entries: readonly { id: string; dense: readonly number[] }[]): void {
      const next = new Float32Array((ids.length + entries.length) * dims);
      next.set(rows);
      entries.forEach((e, i) => next.set(normalizeToFloat32(e.dense), (ids.length + i) * dims));
      rows = next;
      for (const e of entries) ids.push(e.id);
    },
    /** The `k` best rows by cosine, best first; ties by id so runs compare. */
    query(dense: readonly number[], k: number): Ranked[] {
      const q = normalizeToFloat32(dense);
      const best: Ranked[] = [];
      for (let row = 0; row < ids.length; row++) {
        let score = 0;
        const offset = row * dims;
        for (let d = 0; d < dims; d++) score += q[d]! * rows[offset + d]!;
        if (best.length === k && score <= best[k - 1]!.score) continue;
        let at = best.length;
        while (at > 0 && score > best[at - 1]!.score) at--;
        best.splice(at, 0, { id: ids[row]!, score });
        if (best.length > k) best.pop();
      }
      return best;
    },
    get size(): number {
      return ids.length;
    },
    bytes(): number {
      return rows.byteLength;
    },
  };
}

/** BM25 alone: Σ over shared terms of query weight × document weight × IDF, over every document. */
export function createSparseBaseline() {
  const docs: { id: string; weights: Map<number, number> }[] = [];
  const documentFrequency = new Map<number, number>();
  return {
    add(entries: readonly { id: string; text: string }[]): void {
      for (const e of entries) {
        const v = encodeDocument(e.text);
        docs.push({ id: e.id, weights: new Map(v.indices.map((t, i) => [t, v.values[i]!])) });
        for (const t of v.indices) documentFrequency.set(t, (documentFrequency.get(t) ?? 0) + 1);
      }
    },
    query(text: string, k: number): Ranked[] {
      const q = encodeQuery(text);
      const scored: Ranked[] = [];
      for (const doc of docs) {
        let score = 0;
        q.indices.forEach((t, i) => {
          const w = doc.weights.get(t);
          if (w !== undefined) score += q.values[i]! * w * idf(docs.length, documentFrequency.get(t)!);
        });
        if (score > 0) scored.push({ id: doc.id, score });
      }
      return scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).slice(0, k);
    },
  };
}
