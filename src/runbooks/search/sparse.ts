import { hash32 } from "./hash.ts";
import { TOKENIZER_VERSION, tokenize } from "./text.ts";
import type { SparseVector } from "./vector-index.ts";

/**
 * BM25 as sparse vectors, split the way Qdrant splits it: the document side carries BM25's
 * term-frequency saturation and length normalisation, the query side one weight per distinct term,
 * and the index multiplies in IDF at query time (Qdrant's `modifier: "idf"`, and the embedded index
 * with the same formula). So the encoder needs no corpus statistics and a document's vector never
 * changes when other documents come and go.
 */

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/**
 * BM25 normalises a document's length against the corpus average, which a per-document encoder
 * cannot know, so it is fixed. 100 tokens is what this tokenizer makes of a typical runbook: over
 * the 50 prometheus-operator runbooks the mean is 114 and the median 89. Decision summaries are
 * shorter and simply count as short documents. A fixed value that is somewhat off only shifts how
 * much length is penalised, the same way for every document.
 */
export const BM25_AVG_DOC_LENGTH = 100;

/** Goes into the names of whatever stores these vectors, so a change forces re-encoding. */
export const SPARSE_ENCODER_NAME = `bm25-t${TOKENIZER_VERSION}-h1-avg${BM25_AVG_DOC_LENGTH}`;

/**
 * A term's dimension: a stable 32-bit hash of the term, so there is no vocabulary to store or keep
 * in sync between replicas. Two terms that collide share a dimension and are counted as one term
 * (their frequencies add up before saturation, on the document and the query side alike). With a
 * vocabulary of ~10⁴ terms the chance that any pair collides is about 1 %, and a collision can only
 * make two words look alike, never hide one.
 */
export function termIndex(term: string): number {
  return hash32(term);
}

function countTerms(tokens: readonly string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const token of tokens) {
    const index = termIndex(token);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  return counts;
}

function toVector(weights: Map<number, number>): SparseVector {
  const indices = [...weights.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => weights.get(i)!) };
}

/** `tf·(k1+1) / (tf + k1·(1 − b + b·len/avgdl))` per distinct term. */
export function encodeDocument(text: string): SparseVector {
  const tokens = tokenize(text);
  const norm = BM25_K1 * (1 - BM25_B + (BM25_B * tokens.length) / BM25_AVG_DOC_LENGTH);
  const weights = new Map<number, number>();
  for (const [index, tf] of countTerms(tokens)) weights.set(index, (tf * (BM25_K1 + 1)) / (tf + norm));
  return toVector(weights);
}

/** One per distinct term: repeating a word in a query should not outweigh the rest of it. */
export function encodeQuery(text: string): SparseVector {
  const weights = new Map<number, number>();
  for (const index of countTerms(tokenize(text)).keys()) weights.set(index, 1);
  return toVector(weights);
}
