import { describe, expect, it } from "vitest";
import { BM25_AVG_DOC_LENGTH, BM25_B, BM25_K1, encodeDocument, encodeQuery, termIndex } from "../../../src/runbooks/search/sparse.ts";

const bm25 = (tf: number, length: number) => (tf * (BM25_K1 + 1)) / (tf + BM25_K1 * (1 - BM25_B + (BM25_B * length) / BM25_AVG_DOC_LENGTH));

function weightOf(vector: { indices: number[]; values: number[] }, term: string): number | undefined {
  const at = vector.indices.indexOf(termIndex(term));
  return at < 0 ? undefined : vector.values[at];
}

describe("sparse BM25 vectors", () => {
  it("hashes terms to stable unsigned 32-bit indices (stored in Qdrant: must never drift)", () => {
    expect(termIndex("pod")).toBe(termIndex("pod"));
    expect(termIndex("pod")).not.toBe(termIndex("node"));
    for (const term of ["pod", "crash", "loop", "etcd", "ünïcode"]) {
      const index = termIndex(term);
      expect(Number.isInteger(index) && index >= 0 && index <= 0xffffffff).toBe(true);
    }
  });

  it("keeps hashed indices pinned to known values", () => {
    // A change here re-indexes every stored document: bump SPARSE_ENCODER_NAME with it.
    expect([termIndex("pod"), termIndex("crash"), termIndex("loop")]).toEqual([3845517804, 388200422, 1952356939]);
  });

  it("encodes a document as sorted, unique indices with BM25 term-frequency weights", () => {
    const v = encodeDocument("pod crash loop pod pod");
    expect(v.indices).toEqual([...v.indices].sort((a, b) => a - b));
    expect(new Set(v.indices).size).toBe(v.indices.length);
    expect(v.indices).toHaveLength(3);
    expect(weightOf(v, "pod")).toBeCloseTo(bm25(3, 5), 12);
    expect(weightOf(v, "crash")).toBeCloseTo(bm25(1, 5), 12);
  });

  it("saturates term frequency and favours short documents", () => {
    const once = weightOf(encodeDocument("disk"), "disk")!;
    const twice = weightOf(encodeDocument("disk disk"), "disk")!;
    const many = weightOf(encodeDocument(Array(50).fill("disk").join(" ")), "disk")!;
    expect(twice).toBeGreaterThan(once); // more occurrences in a slightly longer doc still weigh more...
    expect(many).toBeGreaterThan(twice);
    expect(many).toBeLessThan(BM25_K1 + 1); // ...but never past k1 + 1
    const short = weightOf(encodeDocument("disk full"), "disk")!;
    const long = weightOf(encodeDocument(`disk full ${"other words here ".repeat(100)}`), "disk")!;
    expect(short).toBeGreaterThan(long);
  });

  it("works on what the tokenizer makes of alert names", () => {
    const doc = encodeDocument("KubePodCrashLooping");
    const query = encodeQuery("pod is crash looping");
    expect(query.indices.every((i) => doc.indices.includes(i))).toBe(true);
  });

  it("gives a query weight 1 per distinct term", () => {
    const q = encodeQuery("disk disk full DISK");
    expect(q.indices).toHaveLength(2);
    expect(q.values).toEqual([1, 1]);
    expect(encodeQuery("")).toEqual({ indices: [], values: [] });
    expect(encodeDocument("the a of")).toEqual({ indices: [], values: [] });
  });

  it("counts two terms whose hashes collide as one term", () => {
    // Found by hashing pseudo-random consonant strings (the stemmer leaves them as they are).
    const [a, b] = ["trzrmdb", "prhvfxw"];
    expect(termIndex(a)).toBe(termIndex(b));
    const v = encodeDocument(`${a} ${b}`);
    expect(v.indices).toEqual([termIndex(a)]);
    expect(v.values[0]).toBeCloseTo(bm25(2, 2), 12);
    expect(encodeQuery(`${a} ${b}`)).toEqual({ indices: [termIndex(a)], values: [1] });
  });

  it("is deterministic", () => {
    const text = "Node filesystem space is filling up; clean up old images and logs.";
    expect(encodeDocument(text)).toEqual(encodeDocument(text));
  });
});
