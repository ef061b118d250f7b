import { Ollama } from "ollama";
import { AppError, errorMessage } from "../../errors.ts";
import { hash32 } from "./hash.ts";
import { networkReason } from "./network-error.ts";
import { TOKENIZER_VERSION, tokenize } from "./text.ts";

export interface Embedder {
  /** Identifies the vector space: stored with the index, and a different name means re-embed everything. */
  readonly name: string;
  readonly dims: number;
  embedDocuments(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

// ---------------------------------------------------------------------------------------------
// Lexical embedder

export interface LexicalEmbedderOptions {
  dims?: number;
}

/** Feature weights: whole words say the most, word pairs add phrasing, trigrams catch variants and compounds. */
const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.6;
const TRIGRAM_WEIGHT = 0.25;
/** Keeps the text with no tokens off the origin, where cosine is undefined. */
const EMPTY_FEATURE = "\u0000empty";
const LEXICAL_VERSION = 1;

/**
 * A dense embedder with no model, for when no Ollama is configured: feature hashing of the shared
 * tokenizer's words, adjacent word pairs and the character trigrams of each word, each feature
 * weighted 1 + ln(count) (a word said ten times is not ten times the topic), added into `dims`
 * buckets with a hash-chosen sign so collisions cancel out on average instead of piling up, then
 * L2-normalised. It knows nothing of synonyms, but "Pod is crash looping" lands near a runbook
 * about KubePodCrashLooping and far from one about disks.
 */
export function createLexicalEmbedder(options: LexicalEmbedderOptions = {}): Embedder {
  const dims = options.dims ?? 512;
  if (!Number.isSafeInteger(dims) || dims < 16 || dims > 65_536) {
    throw new AppError("config", `lexical embedder dimensions must be an integer 16..65536, got ${dims}`);
  }

  function embed(text: string): number[] {
    const tokens = tokenize(text);
    const features = new Map<string, number>();
    const add = (feature: string) => features.set(feature, (features.get(feature) ?? 0) + 1);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      add(`w:${token}`);
      if (i > 0) add(`b:${tokens[i - 1]} ${token}`);
      const padded = `<${token}>`;
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`);
    }
    if (features.size === 0) features.set(EMPTY_FEATURE, 1);

    const vector = new Float64Array(dims);
    for (const [feature, count] of features) {
      const weight = feature.startsWith("w:") ? UNIGRAM_WEIGHT : feature.startsWith("b:") ? BIGRAM_WEIGHT : TRIGRAM_WEIGHT;
      const h = hash32(feature);
      // Bucket from the low bits, sign from the top bit: independent after hash32's finaliser.
      const bucket = h % dims;
      vector[bucket] = vector[bucket]! + (h >>> 31 === 1 ? -1 : 1) * weight * (1 + Math.log(count));
    }
    let norm = 0;
    for (const x of vector) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm === 0) {
      // Every feature cancelled out: vanishingly rare, but a zero vector would break cosine.
      vector[hash32(EMPTY_FEATURE) % dims] = 1;
      norm = 1;
    }
    return Array.from(vector, (x) => x / norm);
  }

  return {
    name: `lexical-v${LEXICAL_VERSION}-t${TOKENIZER_VERSION}-${dims}`,
    dims,
    async embedDocuments(texts) {
      return texts.map(embed);
    },
    async embedQuery(text) {
      return embed(text);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Ollama embedder

export interface OllamaEmbedderOptions {
  /** e.g. `http://ollama:11434`. */
  host: string;
  model?: string;
  /** For tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Texts per `/api/embed` request. */
  batchSize?: number;
  /** Per request. The first one may load the model from disk, which takes a while on a small box. */
  timeoutMs?: number;
  /**
   * Task prefixes the model was trained with. Default: nomic's `search_document: ` and
   * `search_query: ` for `nomic-embed-*` models, none for others (they were not trained with them).
   */
  prefixes?: { document: string; query: string };
}

export interface OllamaEmbedder extends Embedder {
  /**
   * Learns `dims` from the server (one tiny embedding) and returns it. `dims` is only known after
   * this or after the first embedding call; reading it before throws, because an index created
   * with a guessed size would have to be rebuilt.
   */
  init(): Promise<number>;
}

const NOMIC_PREFIXES = { document: "search_document: ", query: "search_query: " };

/**
 * Credentials in the host become a Basic header: fetch refuses URLs that carry them (and would
 * print them in its error), while a proxy in front of Ollama may want them. `shown` is the host
 * for messages; without credentials the client gets the host exactly as configured, so the
 * client's own defaults (port 11434 when none is given) still apply.
 */
function splitCredentials(host: string): { client: string; shown: string; headers: Record<string, string> | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(host.includes("://") ? host : `http://${host}`);
  } catch {
    throw new AppError("config", `Ollama host is not a URL: ${host.replace(/\/\/[^@/]*@/, "//")}`);
  }
  if (!parsed.username && !parsed.password) return { client: host, shown: host.replace(/\/$/, ""), headers: undefined };
  const basic = Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString("base64");
  parsed.username = "";
  parsed.password = "";
  const bare = parsed.toString().replace(/\/$/, "");
  return { client: bare, shown: bare, headers: { Authorization: `Basic ${basic}` } };
}

/**
 * Embeddings from an Ollama server through the `ollama` client (`/api/embed`), in batches, one
 * request at a time (Ollama queues them anyway, and a burst would only hold the queue longer).
 */
export function createOllamaEmbedder(options: OllamaEmbedderOptions): OllamaEmbedder {
  const model = options.model ?? "nomic-embed-text";
  const batchSize = options.batchSize ?? 32;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const prefixes = options.prefixes ?? (model.startsWith("nomic-embed") ? NOMIC_PREFIXES : { document: "", query: "" });
  const { client: clientHost, shown: host, headers } = splitCredentials(options.host);
  const baseFetch = options.fetch ?? globalThis.fetch;
  // The client has no timeout of its own; a hung server must not hold a worker forever.
  const timedFetch: typeof fetch = (input, init) =>
    baseFetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) });
  const client = new Ollama({ host: clientHost, fetch: timedFetch, ...(headers ? { headers } : {}) });
  let dims: number | undefined;
  let initializing: Promise<number> | undefined;

  function fail(error: unknown): AppError {
    if (error instanceof AppError) return error;
    const e = error as { name?: unknown; status_code?: unknown; error?: unknown } | undefined;
    if (e?.name === "ResponseError" && typeof e.status_code === "number") {
      const detail = typeof e.error === "string" ? e.error : errorMessage(error);
      if (e.status_code === 404) {
        return new AppError("unavailable", `Ollama at ${host} does not have the model "${model}" (run \`ollama pull ${model}\` there): ${detail}`, { cause: error });
      }
      return new AppError("unavailable", `Ollama at ${host} failed to embed with "${model}": HTTP ${e.status_code} ${detail}`, { cause: error });
    }
    if (e?.name === "TimeoutError" || e?.name === "AbortError") {
      return new AppError("unavailable", `Ollama at ${host} did not answer within ${timeoutMs} ms (embedding with "${model}")`, { cause: error });
    }
    return new AppError("unavailable", `Ollama at ${host} is not reachable (embedding with "${model}"): ${networkReason(error)}`, { cause: error });
  }

  async function embedBatch(input: string[]): Promise<number[][]> {
    let response;
    try {
      response = await client.embed({ model, input });
    } catch (error) {
      throw fail(error);
    }
    const embeddings = response?.embeddings;
    if (!Array.isArray(embeddings) || embeddings.length !== input.length) {
      throw new AppError("unavailable", `Ollama at ${host} returned ${Array.isArray(embeddings) ? embeddings.length : "no"} embeddings for ${input.length} texts (model "${model}")`);
    }
    for (const vector of embeddings) {
      if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === "number" && Number.isFinite(x))) {
        throw new AppError("unavailable", `Ollama at ${host} returned a malformed embedding (model "${model}")`);
      }
      dims ??= vector.length;
      if (vector.length !== dims) {
        throw new AppError("unavailable", `Ollama at ${host} returned ${vector.length} dimensions, expected ${dims}: was "${model}" replaced by a different model?`);
      }
    }
    return embeddings;
  }

  async function embedAll(texts: string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += batchSize) out.push(...(await embedBatch(texts.slice(i, i + batchSize))));
    return out;
  }

  return {
    name: `ollama:${model}`,
    get dims(): number {
      if (dims === undefined) throw new AppError("internal", `Ollama embedder dimensions are unknown until init() (model "${model}")`);
      return dims;
    },
    init(): Promise<number> {
      if (dims !== undefined) return Promise.resolve(dims);
      initializing ??= embedBatch([`${prefixes.query}dimension probe`])
        .then(() => dims!)
        .finally(() => {
          initializing = undefined;
        });
      return initializing;
    },
    async embedDocuments(texts: string[]): Promise<number[][]> {
      return embedAll(texts.map((t) => `${prefixes.document}${t}`));
    },
    async embedQuery(text: string): Promise<number[]> {
      const [vector] = await embedAll([`${prefixes.query}${text}`]);
      return vector!;
    },
  };
}
