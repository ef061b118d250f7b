import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { searchDocHash, upsertSearchDocs } from "../../src/runbooks/search-docs.ts";
import type { IndexedDoc } from "../../src/runbooks/search/vector-index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const embedder = { name: "test-embedder" };

function doc(i: number, hash: string): IndexedDoc {
  // Values a real (float4) holds exactly, so what comes back can be compared as is.
  return { id: `runbook:r${i}`, dense: [i, 0.5, -0.25, 1], sparse: { indices: [i], values: [1.5] }, payload: { kind: "runbook", hash, runbook_id: `r${i}` } };
}

describe("search_docs", () => {
  it("stores more documents than one statement can carry, and replaces them in place", async () => {
    const docs = Array.from({ length: 2_500 }, (_, i) => doc(i, "h1"));
    await upsertSearchDocs(db.sql, embedder, docs);
    await upsertSearchDocs(db.sql, { name: "other-embedder" }, [doc(7, "h2")]);
    const rows = await db.sql<{ id: string; kind: string; embedder: string; hash: string; dense: number[]; sparse: unknown; payload: unknown }[]>`
      select id, kind, embedder, hash, dense, sparse, payload from search_docs order by id`;
    expect(rows).toHaveLength(2_500);
    expect(rows.filter((r) => r.embedder === "test-embedder" && r.hash === "h1" && r.kind === "runbook")).toHaveLength(2_499);
    expect(rows.find((r) => r.id === "runbook:r7")).toEqual({
      id: "runbook:r7",
      kind: "runbook",
      embedder: "other-embedder",
      hash: "h2",
      dense: [7, 0.5, -0.25, 1],
      sparse: { indices: [7], values: [1.5] },
      payload: { kind: "runbook", hash: "h2", runbook_id: "r7" },
    });
  });

  it("hashes content with everything that shapes its vectors", () => {
    expect(searchDocHash("a", { name: "x" })).toMatch(/^[0-9a-f]{32}$/);
    expect(searchDocHash("a", { name: "x" })).toBe(searchDocHash("a", { name: "x" }));
    expect(searchDocHash("a", { name: "y" })).not.toBe(searchDocHash("a", { name: "x" }));
    expect(searchDocHash("b", { name: "x" })).not.toBe(searchDocHash("a", { name: "x" }));
  });
});
