import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isAppError } from "../../../src/errors.ts";
import { createLexicalEmbedder } from "../../../src/runbooks/search/embedder.ts";
import { encodeDocument, encodeQuery } from "../../../src/runbooks/search/sparse.ts";
import type { Filter, IndexedDoc, SparseVector, VectorIndex } from "../../../src/runbooks/search/vector-index.ts";
import { sharedDir } from "../../helpers/shared.ts";

export interface IndexUnderTest {
  index: VectorIndex;
  /** Drops whatever the index created (a Qdrant collection); the index is not used afterwards. */
  cleanup?(): Promise<void>;
}

/** RRF contribution at a 0-based rank with Qdrant's k = 2, as the exact fractions the tests reason in. */
const rrf = (rank: number) => 1 / (rank + 2);

function sparse(entries: Record<number, number>): SparseVector {
  const indices = Object.keys(entries)
    .map(Number)
    .sort((a, b) => a - b);
  return { indices, values: indices.map((i) => entries[i]!) };
}

function doc(id: string, dense: number[], terms: Record<number, number>, payload: Record<string, unknown> = {}): IndexedDoc {
  return { id, dense, sparse: sparse(terms), payload: { kind: "runbook", hash: `h-${id}`, ...payload } };
}

function cosine(a: number[], b: number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    ab += x * b[i]!;
    aa += x * x;
    bb += b[i]! * b[i]!;
  });
  return ab / Math.sqrt(aa * bb);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

const corpusDir = path.join(sharedDir, "corpus", "prometheus-operator-runbooks");

function corpus(): { id: string; text: string }[] {
  return readdirSync(corpusDir)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => ({ id: `runbook:${f.replace(/\.md$/, "")}`, text: readFileSync(path.join(corpusDir, f), "utf8") }));
}

/**
 * What every VectorIndex must do, identically: the embedded index and the Qdrant adapter (against
 * a real Qdrant or the stand-in) run this same suite, so matching behaves the same whichever one
 * a deployment has.
 */
export function describeIndexContract(name: string, factory: () => Promise<IndexUnderTest>): void {
  describe(`VectorIndex contract: ${name}`, () => {
    const open: IndexUnderTest[] = [];
    async function fresh(dims?: number): Promise<VectorIndex> {
      const made = await factory();
      open.push(made);
      if (dims !== undefined) await made.index.ensure(dims);
      return made.index;
    }
    afterEach(async () => {
      for (const made of open.splice(0)) {
        await made.index.close?.();
        await made.cleanup?.();
      }
    });

    it("ensure creates once and is idempotent, keeping what was stored", async () => {
      const index = await fresh();
      expect(await index.ensure(4)).toEqual({ action: "created", dims: 4 });
      await index.upsert([doc("a", [1, 0, 0, 0], { 1: 1 })]);
      expect(await index.ensure(4)).toEqual({ action: "unchanged", dims: 4 });
      expect(await index.count()).toBe(1);
    });

    it("ensure with other dimensions recreates the index empty and says so", async () => {
      const index = await fresh(4);
      await index.upsert([doc("a", [1, 0, 0, 0], { 1: 1 })]);
      expect(await index.ensure(6)).toEqual({ action: "recreated", dims: 6, previousDims: 4 });
      expect(await index.count()).toBe(0);
      await index.upsert([doc("b", [1, 0, 0, 0, 0, 1], { 1: 1 })]);
      expect((await index.list()).map((e) => e.id)).toEqual(["b"]);
    });

    it("refuses to work before ensure, and refuses docs that do not fit, writing none of the batch", async () => {
      const unready = await fresh();
      expect(isAppError(await rejection(unready.upsert([doc("a", [1, 0, 0, 0], {})])), "internal")).toBe(true);

      const index = await fresh(4);
      const bad = [
        doc("ok", [1, 0, 0, 0], { 1: 1 }),
        doc("short", [1, 0, 0], { 1: 1 }),
      ];
      const error = await rejection(index.upsert(bad));
      expect(isAppError(error, "invalid_payload")).toBe(true);
      expect((error as Error).message).toContain("short");
      expect(isAppError(await rejection(index.upsert([{ ...doc("k", [1, 0, 0, 0], {}), payload: { hash: "x" } }])), "invalid_payload")).toBe(true);
      expect(isAppError(await rejection(index.upsert([doc("z", [0, 0, 0, 0], {})])), "invalid_payload")).toBe(true);
      expect(isAppError(await rejection(index.upsert([{ ...doc("d", [1, 0, 0, 0], {}), sparse: { indices: [3, 3], values: [1, 1] } }])), "invalid_payload")).toBe(true);
      expect(isAppError(await rejection(index.query({ dense: [1, 0], sparse: sparse({}), limit: 3 })), "invalid_payload")).toBe(true);
      expect(await index.count()).toBe(0);
    });

    it("upsert replaces a doc with the same id: payload, dense and sparse vectors", async () => {
      const index = await fresh(4);
      await index.upsert([doc("a", [1, 0, 0, 0], { 1: 1 }, { title: "old" }), doc("b", [0, 1, 0, 0], { 2: 1 })]);
      await index.upsert([doc("a", [0, 0, 1, 0], { 3: 1 }, { title: "new" })]);
      expect(await index.count()).toBe(2);
      expect(await index.get(["a"])).toEqual([{ id: "a", payload: { kind: "runbook", hash: "h-a", title: "new" } }]);
      const [hit] = await index.query({ dense: [0, 0, 1, 0], sparse: sparse({ 3: 1 }), limit: 1 });
      expect(hit?.id).toBe("a");
      expect(hit?.similarity).toBeCloseTo(1, 6);
      // The old term is gone from the sparse side: a query for it alone finds only the dense ranking.
      const old = await index.query({ dense: [0, 1, 0, 0], sparse: sparse({ 1: 1 }), limit: 5 });
      expect(old.map((h) => [h.id, h.score])).toEqual([
        ["b", expect.closeTo(rrf(0), 6)],
        ["a", expect.closeTo(rrf(1), 6)],
      ]);
    });

    it("remove deletes by id and ignores unknown ids", async () => {
      const index = await fresh(4);
      await index.upsert([doc("a", [1, 0, 0, 0], { 1: 1 }), doc("b", [0, 1, 0, 0], { 1: 1 }), doc("c", [0, 0, 1, 0], { 1: 1 })]);
      await index.remove(["b", "nope"]);
      expect(await index.count()).toBe(2);
      expect((await index.get(["a", "b", "c"])).map((e) => e.id)).toEqual(["a", "c"]);
      const hits = await index.query({ dense: [0, 1, 0, 0], sparse: sparse({ 1: 1 }), limit: 10 });
      expect(hits.map((h) => h.id).sort()).toEqual(["a", "c"]);
      await index.remove([]);
      expect(await index.count()).toBe(2);
    });

    it("get returns found docs in the order asked, once each; list is every doc by id; both honour filters", async () => {
      const index = await fresh(4);
      await index.upsert([
        doc("runbook:b", [1, 0, 0, 0], { 1: 1 }, { tier: "a", priority: 1, enabled: true, labels: ["disk", "node"] }),
        doc("runbook:a", [0, 1, 0, 0], { 1: 1 }, { tier: "b", priority: 2, enabled: false, labels: ["pod"] }),
        doc("decision:1", [0, 0, 1, 0], { 1: 1 }, { kind: "decision", tier: "c", priority: 3, nested: { team: "ops" } }),
      ]);
      expect((await index.get(["runbook:a", "missing", "decision:1", "runbook:a"])).map((e) => e.id)).toEqual(["runbook:a", "decision:1"]);
      expect(await index.get([])).toEqual([]);
      const all = await index.list();
      expect(all.map((e) => e.id)).toEqual(["decision:1", "runbook:a", "runbook:b"]);
      expect(all[2]!.payload).toEqual({ kind: "runbook", hash: "h-runbook:b", tier: "a", priority: 1, enabled: true, labels: ["disk", "node"] });

      const cases: [Filter, string[]][] = [
        [{ kind: "runbook" }, ["runbook:a", "runbook:b"]],
        [{ kind: "decision" }, ["decision:1"]],
        [{ tier: ["a", "c"] }, ["decision:1", "runbook:b"]],
        [{ kind: "runbook", tier: ["a", "c"] }, ["runbook:b"]],
        [{ priority: [2, 3] }, ["decision:1", "runbook:a"]],
        [{ priority: 1 }, ["runbook:b"]],
        [{ enabled: false }, ["runbook:a"]],
        [{ labels: "node" }, ["runbook:b"]],
        [{ labels: ["pod", "x"] }, ["runbook:a"]],
        [{ "nested.team": "ops" }, ["decision:1"]],
        [{ tier: [] }, []],
        [{ tier: "zzz" }, []],
      ];
      for (const [filter, expected] of cases) {
        expect((await index.list(filter)).map((e) => e.id), JSON.stringify(filter)).toEqual(expected);
        expect(await index.count(filter), JSON.stringify(filter)).toBe(expected.length);
      }
      expect(await index.count()).toBe(3);
      expect(isAppError(await rejection(index.count({ priority: 1.5 })), "invalid_payload")).toBe(true);
    });

    it("an empty index answers every query with nothing", async () => {
      const index = await fresh(4);
      expect(await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 1: 1 }), limit: 5 })).toEqual([]);
      expect(await index.list()).toEqual([]);
      expect(await index.count()).toBe(0);
    });

    it("fuses the two prefetches with RRF exactly as hand-computed (k = 2, ranks from 0)", async () => {
      const index = await fresh(4);
      // Dense ranking for q = e1: A (0.995) > B (0.894) > C (0.707) > D (0).
      // Sparse ranking for term 7: C (3) > A (2) > B (1); D lacks the term.
      await index.upsert([
        doc("A", [1, 0.1, 0, 0], { 7: 2 }),
        doc("B", [1, 0.5, 0, 0], { 7: 1 }),
        doc("C", [1, 1, 0, 0], { 7: 3 }),
        doc("D", [0, 1, 0, 0], { 8: 1 }),
      ]);
      const hits = await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 7: 1 }), limit: 10 });
      expect(hits.map((h) => h.id)).toEqual(["A", "C", "B", "D"]);
      const scores = Object.fromEntries(hits.map((h) => [h.id, h.score]));
      expect(scores.A).toBeCloseTo(rrf(0) + rrf(1), 6); // 0.8333
      expect(scores.C).toBeCloseTo(rrf(2) + rrf(0), 6); // 0.75
      expect(scores.B).toBeCloseTo(rrf(1) + rrf(2), 6); // 0.5833
      expect(scores.D).toBeCloseTo(rrf(3), 6); // 0.2, dense only

      const top2 = await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 7: 1 }), limit: 2 });
      expect(top2.map((h) => h.id)).toEqual(["A", "C"]);
      expect(await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 7: 1 }), limit: 0 })).toEqual([]);
    });

    it("leaves out a doc that neither prefetch returned", async () => {
      const index = await fresh(4);
      await index.upsert([
        doc("A", [1, 0.1, 0, 0], { 7: 2 }),
        doc("B", [1, 0.5, 0, 0], { 7: 1 }),
        doc("C", [1, 1, 0, 0], { 7: 3 }),
        doc("D", [0, 1, 0, 0], { 8: 1 }),
      ]);
      // prefetch 2: dense keeps A, B; sparse keeps C, A. D is in neither.
      const hits = await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 7: 1 }), limit: 10, prefetch: 2 });
      expect(hits.map((h) => [h.id, h.score])).toEqual([
        ["A", expect.closeTo(rrf(0) + rrf(1), 6)],
        ["C", expect.closeTo(rrf(0), 6)],
        ["B", expect.closeTo(rrf(1), 6)],
      ]);
    });

    it("breaks equal fused scores by id", async () => {
      const index = await fresh(4);
      // "y" is first by dense only, "x" first by sparse only: both score 1/2.
      await index.upsert([doc("y", [1, 0, 0, 0], { 2: 1 }), doc("x", [0, 1, 0, 0], { 1: 1 })]);
      const hits = await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 1: 1 }), limit: 1, prefetch: 1 });
      expect(hits.map((h) => [h.id, h.score])).toEqual([["x", expect.closeTo(0.5, 6)]]);
    });

    it("weights a rare shared term above a common one (IDF, Qdrant's formula)", async () => {
      const index = await fresh(4);
      // Without IDF "common" (1.5 × term 11) would beat "rare" (1 × term 10) on the sparse side.
      // Term 11 is in 4 of 6 docs: idf = ln(2.5/4.5 + 1) = 0.44; term 10 in 1: ln(5.5/1.5 + 1) = 1.54.
      await index.upsert([
        doc("f1", [1, 0.05, 0, 0], { 12: 1 }),
        doc("common", [1, 0.3, 0, 0], { 11: 1.5 }),
        doc("rare", [1, 0.6, 0, 0], { 10: 1 }),
        doc("f2", [1, 1, 0, 0], { 11: 0.9 }),
        doc("f3", [0.5, 1, 0, 0], { 11: 0.8 }),
        doc("f4", [0, 1, 0, 0], { 11: 0.7 }),
      ]);
      const hits = await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 10: 1, 11: 1 }), limit: 10 });
      expect(hits.map((h) => [h.id, h.score])).toEqual([
        ["rare", expect.closeTo(rrf(0) + rrf(2), 6)], // sparse 0, dense 2
        ["common", expect.closeTo(rrf(1) + rrf(1), 6)], // sparse 1, dense 1
        ["f1", expect.closeTo(rrf(0), 6)], // dense 0 only
        ["f2", expect.closeTo(rrf(2) + rrf(3), 6)],
        ["f3", expect.closeTo(rrf(3) + rrf(4), 6)],
        ["f4", expect.closeTo(rrf(4) + rrf(5), 6)],
      ]);
    });

    it("computes IDF over the whole collection, not over the docs the filter lets through", async () => {
      const index = await fresh(4);
      await index.upsert([
        doc("d1", [1, 0.1, 0, 0], { 20: 1.5 }, { kind: "decision" }),
        doc("d2", [1, 0.5, 0, 0], { 21: 1 }, { kind: "decision" }),
        ...[1, 2, 3, 4].map((i) => doc(`rb${i}`, [0, 0, 1, i / 10], { 20: 1 })),
      ]);
      // Whole collection: term 20 is in 5 of 6 docs, term 21 in 1, so d2 wins the sparse side
      // (1.54 vs 0.36) and both end up at 1/2 + 1/3. Over the filtered pair alone the IDFs
      // would be equal, d1 would win both sides and score 1/2 + 1/2.
      const hits = await index.query({ dense: [1, 0, 0, 0], sparse: sparse({ 20: 1, 21: 1 }), limit: 10, filter: { kind: "decision" } });
      expect(hits.map((h) => [h.id, h.score])).toEqual([
        ["d1", expect.closeTo(rrf(0) + rrf(1), 6)],
        ["d2", expect.closeTo(rrf(1) + rrf(0), 6)],
      ]);
    });

    it("filters both prefetches, by kind and by any-of", async () => {
      const index = await fresh(4);
      await index.upsert([
        doc("r1", [1, 0, 0, 0], { 1: 1 }, { tier: "a" }),
        doc("r2", [1, 0.2, 0, 0], { 1: 2 }, { tier: "b" }),
        doc("r3", [1, 0.4, 0, 0], { 1: 3 }, { tier: "c" }),
        doc("d1", [1, 0.01, 0, 0], { 1: 5 }, { kind: "decision", tier: "a" }),
      ]);
      const q = { dense: [1, 0, 0, 0], sparse: sparse({ 1: 1 }), limit: 10 };
      const runbooks = await index.query({ ...q, filter: { kind: "runbook" } });
      expect(runbooks.map((h) => h.id)).toEqual(["r1", "r3", "r2"]);
      expect(runbooks.every((h) => h.payload.kind === "runbook")).toBe(true);
      // r1: dense 0 + sparse 2; r3: dense 2 + sparse 0; r2: dense 1 + sparse 1.
      expect(runbooks.map((h) => h.score)).toEqual([
        expect.closeTo(rrf(0) + rrf(2), 6),
        expect.closeTo(rrf(2) + rrf(0), 6),
        expect.closeTo(rrf(1) + rrf(1), 6),
      ]);
      const some = await index.query({ ...q, filter: { tier: ["a", "c"] } });
      expect(some.map((h) => h.id).sort()).toEqual(["d1", "r1", "r3"]);
      const both = await index.query({ ...q, filter: { kind: "runbook", tier: ["a", "c"] } });
      expect(both.map((h) => h.id)).toEqual(["r1", "r3"]);
      expect(await index.query({ ...q, filter: { tier: [] } })).toEqual([]);
      expect(await index.query({ ...q, filter: { tier: "none" } })).toEqual([]);
    });

    it("reports the cosine of the dense vectors as similarity, and the payload as stored", async () => {
      const index = await fresh(4);
      const docs = [
        doc("a", [3, 1, 0, 2], { 1: 1 }, { title: "Alpha", n: 1 }),
        doc("b", [-1, 2, 0.5, 0], { 2: 1 }),
        doc("c", [0.2, -0.3, 4, 1], { 3: 1 }),
        doc("d", [-2, -1, -0.5, -3], { 4: 1 }),
      ];
      await index.upsert(docs);
      const q = [2, 0.5, -1, 1];
      const hits = await index.query({ dense: q, sparse: sparse({ 1: 1 }), limit: 10 });
      expect(hits).toHaveLength(4);
      for (const hit of hits) {
        const stored = docs.find((d) => d.id === hit.id)!;
        expect(hit.similarity).toBeCloseTo(cosine(q, stored.dense), 5);
        expect(hit.payload).toEqual(stored.payload);
      }
      expect(hits.find((h) => h.id === "d")!.similarity).toBeLessThan(0);
    });

    describe("on the prometheus-operator runbooks with the lexical embedder", () => {
      const embedder = createLexicalEmbedder({ dims: 256 });
      async function loaded(): Promise<VectorIndex> {
        const docs = corpus();
        const dense = await embedder.embedDocuments(docs.map((d) => d.text));
        const index = await fresh(embedder.dims);
        await index.upsert(docs.map((d, i) => ({ id: d.id, dense: dense[i]!, sparse: encodeDocument(d.text), payload: { kind: "runbook", hash: `h${i}` } })));
        return index;
      }

      it("ranks the runbook on the topic first from the dense signal alone", async () => {
        const index = await loaded();
        const none = encodeQuery("");
        expect(none.indices).toEqual([]);
        const hits = await index.query({ dense: await embedder.embedQuery("Pod is crash looping, the container keeps restarting"), sparse: none, limit: 3 });
        expect(hits[0]?.id).toBe("runbook:KubePodCrashLooping");
        const disk = await index.query({ dense: await embedder.embedQuery("filesystem almost out of space on the node"), sparse: none, limit: 3 });
        expect(disk[0]?.id).toBe("runbook:NodeFilesystemAlmostOutOfSpace");
      });

      it("ranks the runbook on the topic first from the sparse signal alone", async () => {
        const index = await loaded();
        // The embedding of nothing carries no topic; with every doc in the dense prefetch, the
        // doc the sparse side puts first gets 1/2 plus something, and wins.
        const nothing = await embedder.embedQuery("");
        const denseOnly = await index.query({ dense: nothing, sparse: encodeQuery(""), limit: 1, prefetch: 50 });
        expect(denseOnly[0]?.id).not.toBe("runbook:KubeClientCertificateExpiration");
        const hits = await index.query({ dense: nothing, sparse: encodeQuery("certificate expiration"), limit: 3, prefetch: 50 });
        expect(hits[0]?.id).toBe("runbook:KubeClientCertificateExpiration");
        expect(hits[0]?.score).toBeGreaterThan(rrf(0));
      });
    });

    it("takes 1,000 docs in batches and finds each of them again", async () => {
      const index = await fresh(4);
      const docs: IndexedDoc[] = [];
      for (let i = 0; i < 1000; i++) {
        const angle = (i / 1000) * Math.PI;
        docs.push(doc(`doc:${String(i).padStart(4, "0")}`, [Math.cos(angle), Math.sin(angle), 0.1, (i % 7) / 10], { [1000 + i]: 1, 1: 0.5 }, { kind: i % 2 === 0 ? "runbook" : "decision", n: i }));
      }
      for (let i = 0; i < docs.length; i += 300) await index.upsert(docs.slice(i, i + 300));
      expect(await index.count()).toBe(1000);
      expect(await index.count({ kind: "decision" })).toBe(500);
      const all = await index.list();
      expect(all).toHaveLength(1000);
      expect(all[0]!.id).toBe("doc:0000");
      expect(all[999]!.id).toBe("doc:0999");
      const target = docs[737]!;
      const hits = await index.query({ dense: target.dense, sparse: sparse({ 1737: 1 }), limit: 3 });
      expect(hits[0]?.id).toBe("doc:0737");
      expect(hits[0]?.similarity).toBeCloseTo(1, 5);
      expect(hits[0]?.score).toBeCloseTo(rrf(0) + rrf(0), 6);
    });
  });
}
