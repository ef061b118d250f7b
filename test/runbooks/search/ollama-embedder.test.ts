import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "../../../src/errors.ts";
import { createOllamaEmbedder } from "../../../src/runbooks/search/embedder.ts";
import { standInVector, startOllamaStandIn, type OllamaStandIn } from "./ollama-stand-in.ts";

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to fail");
}

/** A fetch that records the JSON bodies it sends: works against the stand-in and a real server alike. */
function recordingFetch(): { fetch: typeof fetch; bodies: { model: string; input: string[] }[] } {
  const bodies: { model: string; input: string[] }[] = [];
  const wrapped: typeof fetch = (input, init) => {
    if (typeof init?.body === "string") {
      const body = JSON.parse(init.body) as { model: string; input: string | string[] };
      bodies.push({ model: body.model, input: Array.isArray(body.input) ? body.input : [body.input] });
    }
    return fetch(input, init);
  };
  return { fetch: wrapped, bodies };
}

const cosine = (a: number[], b: number[]) => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    ab += x * b[i]!;
    aa += x * x;
    bb += b[i]! * b[i]!;
  });
  return ab / Math.sqrt(aa * bb);
};

/** What holds for any server that has `model`; run against the stand-in and, with OLLAMA_HOST, a real Ollama. */
function describeOllamaEmbedder(name: string, target: () => { host: string; model: string; exactDims?: number }) {
  describe(`Ollama embedder against ${name}`, () => {
    it("learns its dimensions on init, with one small query-prefixed request", async () => {
      const { host, model, exactDims } = target();
      const rec = recordingFetch();
      const embedder = createOllamaEmbedder({ host, model, fetch: rec.fetch });
      expect(embedder.name).toBe(`ollama:${model}`);
      expect(() => embedder.dims).toThrow(/init\(\)/);
      const dims = await embedder.init();
      expect(dims).toBeGreaterThan(0);
      if (exactDims !== undefined) expect(dims).toBe(exactDims);
      expect(embedder.dims).toBe(dims);
      await embedder.init();
      expect(rec.bodies).toHaveLength(1);
      expect(rec.bodies[0]!.model).toBe(model);
      expect(rec.bodies[0]!.input[0]!.startsWith("search_query: ")).toBe(true);
    });

    it("embeds documents in batches of 32 with nomic's document prefix, in order", async () => {
      const { host, model } = target();
      const rec = recordingFetch();
      const embedder = createOllamaEmbedder({ host, model, fetch: rec.fetch });
      const texts = Array.from({ length: 70 }, (_, i) => `runbook ${i}: ${i % 2 ? "disk is full" : "pod is crash looping"}`);
      const vectors = await embedder.embedDocuments(texts);
      expect(vectors).toHaveLength(70);
      expect(new Set(vectors.map((v) => v.length))).toEqual(new Set([embedder.dims]));
      expect(rec.bodies.map((b) => b.input.length)).toEqual([32, 32, 6]);
      expect(rec.bodies.every((b) => b.model === model)).toBe(true);
      expect(rec.bodies.flatMap((b) => b.input)).toEqual(texts.map((t) => `search_document: ${t}`));
      // Same text, same vector; similar texts closer than different ones.
      expect(cosine(vectors[0]!, vectors[2]!)).toBeGreaterThan(cosine(vectors[0]!, vectors[1]!) - 1e-9);
    });

    it("embeds a query with the query prefix", async () => {
      const { host, model } = target();
      const rec = recordingFetch();
      const embedder = createOllamaEmbedder({ host, model, fetch: rec.fetch });
      const vector = await embedder.embedQuery("KubePodCrashLooping");
      expect(vector.length).toBe(embedder.dims);
      expect(rec.bodies).toEqual([{ model, input: ["search_query: KubePodCrashLooping"] }]);
      expect(await embedder.embedDocuments([])).toEqual([]);
      expect(rec.bodies).toHaveLength(1);
    });

    it("says which model to pull when the server does not have it", async () => {
      const { host } = target();
      const embedder = createOllamaEmbedder({ host, model: "topicops-no-such-model" });
      const error = await rejection(embedder.init());
      expect(isAppError(error, "unavailable")).toBe(true);
      expect(error.message).toContain(host);
      expect(error.message).toContain("ollama pull topicops-no-such-model");
    });
  });
}

let standIn: OllamaStandIn;
beforeAll(async () => {
  standIn = await startOllamaStandIn({ models: { "nomic-embed-text": 8, "mxbai-embed-large": 4 } });
});
afterAll(async () => {
  await standIn.close();
});

describeOllamaEmbedder("the stand-in", () => ({ host: standIn.host, model: "nomic-embed-text", exactDims: 8 }));

const realHost = process.env.OLLAMA_HOST;
if (realHost) {
  describeOllamaEmbedder(realHost, () => ({ host: realHost.includes("://") ? realHost : `http://${realHost}`, model: process.env.OLLAMA_EMBED_MODEL ?? "nomic-embed-text" }));
}

describe("Ollama embedder details (stand-in)", () => {
  it("returns exactly what the server computed for the prefixed texts", async () => {
    const embedder = createOllamaEmbedder({ host: standIn.host });
    expect(await embedder.embedDocuments(["a", "b"])).toEqual([standInVector("search_document: a", 8), standInVector("search_document: b", 8)]);
    expect(await embedder.embedQuery("a")).toEqual(standInVector("search_query: a", 8));
  });

  it("sends no task prefixes to models that were not trained with them, unless told to", async () => {
    const before = standIn.requests.length;
    const plain = createOllamaEmbedder({ host: standIn.host, model: "mxbai-embed-large" });
    await plain.embedQuery("disk full");
    const custom = createOllamaEmbedder({ host: standIn.host, model: "mxbai-embed-large", prefixes: { document: "", query: "Represent this sentence for searching relevant passages: " } });
    await custom.embedQuery("disk full");
    expect(standIn.requests.slice(before).map((r) => r.input)).toEqual([["disk full"], ["Represent this sentence for searching relevant passages: disk full"]]);
    expect(plain.dims).toBe(4);
  });

  it("reports a server that is down as unavailable, naming host and model", async () => {
    const gone = await startOllamaStandIn();
    const host = gone.host;
    await gone.close();
    const error = await rejection(createOllamaEmbedder({ host }).embedQuery("x"));
    expect(isAppError(error, "unavailable")).toBe(true);
    expect(error.message).toContain(host);
    expect(error.message).toContain("nomic-embed-text");
    expect(error.message).toContain("not reachable");
  });

  it("reports the 404 of a model that was never pulled with the command that fixes it", async () => {
    const bare = await startOllamaStandIn({ models: {} });
    try {
      const error = await rejection(createOllamaEmbedder({ host: bare.host }).embedDocuments(["x"]));
      expect(isAppError(error, "unavailable")).toBe(true);
      expect(error.message).toBe(
        `Ollama at ${bare.host} does not have the model "nomic-embed-text" (run \`ollama pull nomic-embed-text\` there): model "nomic-embed-text" not found, try pulling it first`,
      );
    } finally {
      await bare.close();
    }
  });

  it("gives up on a server that does not answer", async () => {
    const stuck = await startOllamaStandIn({ hang: true });
    try {
      const error = await rejection(createOllamaEmbedder({ host: stuck.host, timeoutMs: 200 }).init());
      expect(isAppError(error, "unavailable")).toBe(true);
      expect(error.message).toContain("did not answer within 200 ms");
    } finally {
      await stuck.close();
    }
  });

  it("refuses vectors whose size changes under it", async () => {
    const fickle = await startOllamaStandIn({ switchDimsTo: 16 });
    try {
      const embedder = createOllamaEmbedder({ host: fickle.host });
      expect(await embedder.init()).toBe(8);
      const error = await rejection(embedder.embedQuery("x"));
      expect(isAppError(error, "unavailable")).toBe(true);
      expect(error.message).toContain("returned 16 dimensions, expected 8");
    } finally {
      await fickle.close();
    }
  });

  it("sends credentials in the host as a Basic header, not in the URL", async () => {
    const before = standIn.requests.length;
    await createOllamaEmbedder({ host: standIn.host.replace("http://", "http://proxy:s3cret@") }).embedQuery("x");
    expect(standIn.requests[before]?.authorization).toBe(`Basic ${Buffer.from("proxy:s3cret").toString("base64")}`);
  });

  it("keeps credentials in the host out of its messages", async () => {
    const gone = await startOllamaStandIn();
    await gone.close();
    const error = await rejection(createOllamaEmbedder({ host: gone.host.replace("http://", "http://user:hunter2@") }).init());
    expect(error.message).not.toContain("hunter2");
  });
});
