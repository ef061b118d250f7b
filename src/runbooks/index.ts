import type { Config } from "../config.ts";
import type { Sql } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { createEmbeddedIndex } from "./search/embedded-index.ts";
import { createLexicalEmbedder, createOllamaEmbedder, type Embedder } from "./search/embedder.ts";
import { createQdrantIndex } from "./search/qdrant-index.ts";
import type { VectorIndex } from "./search/vector-index.ts";
import { createRunbookService, type RunbookService } from "./service.ts";

export { loadRunbooks } from "./load.ts";
export { importRunbooks } from "./import.ts";
export { matchRunbooks, type RunbookMatch } from "./match.ts";
export { createRunbookService, shortDate, type RunbookService, type Suggestion, type Suggestions } from "./service.ts";
export type { Runbook, RunbookLibrary, Risk, TrustLevel } from "./types.ts";

/**
 * Similarity floors, per embedder, below which a candidate is noise. The lexical one is measured
 * by `npm run bench -- retrieval` on labelled alerts; nomic-embed-text's cosines sit higher
 * (related texts rarely fall under 0.5), and this default is not measured here (no Ollama):
 * tune it with RUNBOOK_MIN_SIMILARITY.
 */
export const defaultMinSimilarity = { lexical: 0.35, ollama: 0.55 } as const;

export interface SearchBackends {
  embedder: Embedder;
  index: VectorIndex;
  minSimilarity: number;
  describe: string;
}

/** Qdrant and Ollama when configured; otherwise the embedded index and the built-in lexical embedder. */
export async function createSearchBackends(config: Pick<Config, "qdrantUrl" | "qdrantApiKey" | "qdrantCollection" | "ollamaHost" | "ollamaEmbedModel" | "runbookMinSimilarity">): Promise<SearchBackends> {
  let embedder: Embedder;
  if (config.ollamaHost) {
    const ollama = createOllamaEmbedder({ host: config.ollamaHost, model: config.ollamaEmbedModel });
    await ollama.init();
    embedder = ollama;
  } else {
    embedder = createLexicalEmbedder();
  }
  const index = config.qdrantUrl
    ? createQdrantIndex({ url: config.qdrantUrl, collection: config.qdrantCollection, ...(config.qdrantApiKey ? { apiKey: config.qdrantApiKey } : {}) })
    : createEmbeddedIndex();
  const minSimilarity = config.runbookMinSimilarity ?? (config.ollamaHost ? defaultMinSimilarity.ollama : defaultMinSimilarity.lexical);
  return { embedder, index, minSimilarity, describe: `${embedder.name} + ${index.kind} index` };
}

export async function createRunbooks(
  config: Parameters<typeof createSearchBackends>[0] & Pick<Config, "runbooksDir">,
  deps: { sql: Sql; logger: Logger },
): Promise<RunbookService> {
  const backends = await createSearchBackends(config);
  deps.logger.info({ search: backends.describe, minSimilarity: backends.minSimilarity }, "runbook search");
  return createRunbookService({ ...deps, dir: config.runbooksDir, ...backends });
}
