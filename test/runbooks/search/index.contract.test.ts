import { randomUUID } from "node:crypto";
import { QdrantClient } from "@qdrant/js-client-rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "../../../src/errors.ts";
import { createEmbeddedIndex } from "../../../src/runbooks/search/embedded-index.ts";
import { createQdrantIndex, pointIdFor } from "../../../src/runbooks/search/qdrant-index.ts";
import { describeIndexContract } from "./index-contract.ts";
import { startQdrantStandIn, type QdrantStandIn } from "./qdrant-stand-in.ts";

describeIndexContract("embedded", async () => ({ index: createEmbeddedIndex() }));

let standIn: QdrantStandIn;
beforeAll(async () => {
  standIn = await startQdrantStandIn();
});
afterAll(async () => {
  await standIn.close();
});

describeIndexContract("qdrant adapter on the stand-in", async () => {
  const collection = `topicops_test_${randomUUID().slice(0, 8)}`;
  return { index: createQdrantIndex({ url: standIn.url, collection }) };
});

const realQdrant = process.env.QDRANT_URL;
if (realQdrant) {
  describeIndexContract(`qdrant adapter on ${realQdrant}`, async () => {
    const collection = `topicops_test_${randomUUID().slice(0, 8)}`;
    const apiKey = process.env.QDRANT_API_KEY;
    const admin = new QdrantClient({ url: realQdrant, apiKey, checkCompatibility: false });
    return {
      index: createQdrantIndex({ url: realQdrant, apiKey, collection }),
      cleanup: async () => {
        await admin.deleteCollection(collection);
      },
    };
  });
}

describe("qdrant adapter: requests and failures", () => {
  it("maps ids to stable version-5 UUIDs", () => {
    const id = pointIdFor("runbook:KubePodCrashLooping");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointIdFor("runbook:KubePodCrashLooping")).toBe(id);
    expect(pointIdFor("runbook:KubePodNotReady")).not.toBe(id);
  });

  it("creates the collection Qdrant's way: named Cosine dense vector, idf sparse vector, keyword index on kind", async () => {
    const collection = `topicops_shape_${randomUUID().slice(0, 8)}`;
    const index = createQdrantIndex({ url: standIn.url, collection });
    const before = standIn.requests.length;
    await index.ensure(8);
    const made = standIn.requests.slice(before);
    const create = made.find((r) => r.method === "PUT" && r.path === `/collections/${collection}`);
    expect(create?.body).toEqual({ vectors: { dense: { size: 8, distance: "Cosine" } }, sparse_vectors: { sparse: { modifier: "idf" } } });
    const payloadIndex = made.find((r) => r.path === `/collections/${collection}/index`);
    expect(payloadIndex?.body).toEqual({ field_name: "kind", field_schema: "keyword" });
    expect(payloadIndex?.query).toMatchObject({ wait: "true" });
  });

  it("queries with a dense and a sparse prefetch, both filtered, fused by rrf", async () => {
    const collection = `topicops_shape_${randomUUID().slice(0, 8)}`;
    const index = createQdrantIndex({ url: standIn.url, collection });
    await index.ensure(2);
    await index.upsert([{ id: "a", dense: [1, 0], sparse: { indices: [5], values: [1] }, payload: { kind: "runbook", hash: "x" } }]);
    const before = standIn.requests.length;
    const hits = await index.query({ dense: [1, 0], sparse: { indices: [5], values: [1] }, limit: 3, filter: { kind: ["runbook", "decision"] } });
    expect(hits.map((h) => h.id)).toEqual(["a"]);
    const query = standIn.requests.slice(before).find((r) => r.path.endsWith("/points/query"));
    const filter = { must: [{ key: "kind", match: { any: ["runbook", "decision"] } }] };
    expect(query?.body).toEqual({
      prefetch: [
        { query: [1, 0], using: "dense", limit: 20, filter },
        { query: { indices: [5], values: [1] }, using: "sparse", limit: 20, filter },
      ],
      query: { fusion: "rrf" },
      filter,
      limit: 40,
      with_payload: ["doc_id"],
      with_vector: false,
    });
  });

  it("is refused by Qdrant in Qdrant's words for a point id that is not a UUID", async () => {
    const collection = `topicops_shape_${randomUUID().slice(0, 8)}`;
    const client = new QdrantClient({ url: standIn.url, checkCompatibility: false });
    await client.createCollection(collection, { vectors: { dense: { size: 2, distance: "Cosine" } } });
    const error = await client.upsert(collection, { wait: true, points: [{ id: "runbook:x", vector: { dense: [1, 0] } }] }).catch((e: unknown) => e);
    expect((error as { status?: number }).status).toBe(400);
    expect(JSON.stringify((error as { data?: unknown }).data)).toContain("is not a valid point ID, valid values are either an unsigned integer or a UUID");
    const wrongName = await client.upsert(collection, { wait: true, points: [{ id: pointIdFor("x"), vector: { dens: [1, 0] } }] }).catch((e: unknown) => e);
    expect(JSON.stringify((wrongName as { data?: unknown }).data)).toContain("Not existing vector name error: dens");
    const unknownField = await client.api().queryPoints({ collection_name: collection, limitt: 3 } as never).catch((e: unknown) => e);
    expect(JSON.stringify((unknownField as { data?: unknown }).data)).toContain("unknown field `limitt`");
  });

  it("says which Qdrant is unreachable, without its credentials", async () => {
    const down = await startQdrantStandIn();
    const url = down.url;
    await down.close();
    const index = createQdrantIndex({ url: url.replace("http://", "http://user:secret@"), collection: "topicops" });
    const error = await index.ensure(4).catch((e: unknown) => e);
    expect(isAppError(error, "unavailable")).toBe(true);
    expect((error as Error).message).toContain(url);
    expect((error as Error).message).toContain("not reachable");
    expect((error as Error).message).not.toContain("secret");
  });

  it("reports a refused API key as unavailable, naming the URL", async () => {
    const guarded = await startQdrantStandIn({ apiKey: "right" });
    try {
      const index = createQdrantIndex({ url: guarded.url, apiKey: "wrong", collection: "topicops" });
      const error = await index.ensure(4).catch((e: unknown) => e);
      expect(isAppError(error, "unavailable")).toBe(true);
      expect((error as Error).message).toContain(guarded.url);
      expect((error as Error).message).toContain("401");
      expect((error as Error).message).not.toContain("wrong");
    } finally {
      await guarded.close();
    }
  });

  it("recreates a collection whose sparse vector lacks the idf modifier", async () => {
    const collection = `topicops_shape_${randomUUID().slice(0, 8)}`;
    const client = new QdrantClient({ url: standIn.url, checkCompatibility: false });
    await client.createCollection(collection, { vectors: { dense: { size: 4, distance: "Cosine" } }, sparse_vectors: { sparse: {} } });
    const index = createQdrantIndex({ url: standIn.url, collection });
    expect(await index.ensure(4)).toEqual({ action: "recreated", dims: 4, previousDims: 4 });
    const info = await client.getCollection(collection);
    expect(info.config.params.sparse_vectors?.sparse?.modifier).toBe("idf");
    expect(info.payload_schema.kind).toBeDefined();
  });

  it("a collection deleted behind its back is reported, and ensure brings it back", async () => {
    const collection = `topicops_shape_${randomUUID().slice(0, 8)}`;
    const index = createQdrantIndex({ url: standIn.url, collection });
    await index.ensure(4);
    await new QdrantClient({ url: standIn.url, checkCompatibility: false }).deleteCollection(collection);
    const error = await index.count().catch((e: unknown) => e);
    expect(isAppError(error, "unavailable")).toBe(true);
    expect((error as Error).message).toContain(collection);
    expect(await index.ensure(4)).toEqual({ action: "created", dims: 4 });
    expect(await index.count()).toBe(0);
  });
});

describe("embedded index: size", () => {
  it("holds 10,000 docs × 768 dims and answers a filtered hybrid query quickly", async () => {
    const index = createEmbeddedIndex();
    await index.ensure(768);
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    for (let start = 0; start < 10_000; start += 1000) {
      const docs = [];
      for (let i = start; i < start + 1000; i++) {
        const indices = [...new Set(Array.from({ length: 40 }, () => Math.floor((random() + 0.5) * 20_000)))].sort((a, b) => a - b);
        docs.push({
          id: `doc:${i}`,
          dense: Array.from({ length: 768 }, random),
          sparse: { indices, values: indices.map(() => 1) },
          payload: { kind: i % 2 === 0 ? "runbook" : "decision", hash: String(i) },
        });
      }
      await index.upsert(docs);
    }
    expect(await index.count()).toBe(10_000);
    const mb = index.memoryBytes() / 2 ** 20;
    expect(mb).toBeGreaterThan(29); // at least the vectors themselves
    expect(mb).toBeLessThan(200);
    const dense = Array.from({ length: 768 }, random);
    const started = performance.now();
    const hits = await index.query({ dense, sparse: { indices: [1, 2, 3, 500, 9000], values: [1, 1, 1, 1, 1] }, limit: 5, filter: { kind: "runbook" } });
    const elapsed = performance.now() - started;
    expect(hits).toHaveLength(5);
    expect(hits.every((h) => h.payload.kind === "runbook")).toBe(true);
    expect(elapsed).toBeLessThan(500);
  });
});
