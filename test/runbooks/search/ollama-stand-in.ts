import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the part of Ollama's API the embedder uses: `POST /api/embed`. Answers like
 * Ollama: `{ model, embeddings, ... }` for a model it has, 404 with Ollama's "not found, try
 * pulling it first" for one it has not. Vectors are a deterministic function of the text, so a
 * test can tell exactly what text (prefix included) was embedded.
 */
export interface OllamaStandIn {
  host: string;
  /** Bodies of the `/api/embed` requests, in order. */
  requests: { model: string; input: string | string[]; authorization: string | undefined }[];
  close(): Promise<void>;
}

export interface OllamaStandInOptions {
  /** Model name → dimensions. */
  models?: Record<string, number>;
  /** Never answer: for timeouts. */
  hang?: boolean;
  /** Answer this many dimensions after the first request, as if the model had been swapped. */
  switchDimsTo?: number;
}

export function standInVector(text: string, dims: number): number[] {
  const out: number[] = [];
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  for (let d = 0; d < dims; d++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
    out.push(((h % 2001) - 1000) / 1000);
  }
  return out;
}

export async function startOllamaStandIn(options: OllamaStandInOptions = {}): Promise<OllamaStandIn> {
  const models = options.models ?? { "nomic-embed-text": 8 };
  const requests: OllamaStandIn["requests"] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (options.hang) return;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== "/api/embed") return send(404, { error: "404 page not found" });
      let body: { model?: unknown; input?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        return send(400, { error: "invalid character in JSON body" });
      }
      const model = String(body.model);
      const input = body.input as string | string[];
      requests.push({ model, input, authorization: req.headers.authorization });
      const dims = models[model];
      if (dims === undefined) return send(404, { error: `model "${model}" not found, try pulling it first` });
      const texts = Array.isArray(input) ? input : [input];
      const size = options.switchDimsTo !== undefined && requests.length > 1 ? options.switchDimsTo : dims;
      send(200, { model, embeddings: texts.map((t) => standInVector(t, size)), total_duration: 1000, load_duration: 10, prompt_eval_count: texts.length });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
