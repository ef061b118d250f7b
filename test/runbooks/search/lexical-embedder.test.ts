import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isAppError } from "../../../src/errors.ts";
import { createLexicalEmbedder } from "../../../src/runbooks/search/embedder.ts";
import { sharedDir } from "../../helpers/shared.ts";

const runbook = (name: string) => readFileSync(path.join(sharedDir, "corpus", "prometheus-operator-runbooks", `${name}.md`), "utf8");
const dotProduct = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
const norm = (a: number[]) => Math.sqrt(dotProduct(a, a));

describe("lexical embedder", () => {
  it("names its parameters, so a change of size forces re-embedding", () => {
    const small = createLexicalEmbedder({ dims: 128 });
    const standard = createLexicalEmbedder();
    expect(standard.dims).toBe(512);
    expect(small.dims).toBe(128);
    expect(standard.name).toMatch(/^lexical-v\d+-t\d+-512$/);
    expect(small.name).not.toBe(standard.name);
    for (const dims of [3, 1.5, 100_000]) {
      let thrown: unknown;
      try {
        createLexicalEmbedder({ dims });
      } catch (error) {
        thrown = error;
      }
      expect(isAppError(thrown, "config"), String(dims)).toBe(true);
    }
  });

  it("returns unit vectors of its size, the same for the same text every time", async () => {
    const a = createLexicalEmbedder();
    const b = createLexicalEmbedder();
    const text = "KubePodCrashLooping: pod default/api is in CrashLoopBackOff";
    const [doc] = await a.embedDocuments([text]);
    expect(doc).toHaveLength(512);
    expect(norm(doc!)).toBeCloseTo(1, 12);
    expect(await b.embedQuery(text)).toEqual(doc);
    expect(await a.embedDocuments([text, text])).toEqual([doc, doc]);
    const empty = await a.embedQuery("");
    expect(norm(empty)).toBeCloseTo(1, 12);
    expect(empty.every(Number.isFinite)).toBe(true);
  });

  it("puts a sentence about a crash-looping pod nearer that runbook than a disk runbook", async () => {
    const embedder = createLexicalEmbedder();
    const query = await embedder.embedQuery("Pod is crash looping");
    const [crash, disk] = await embedder.embedDocuments([runbook("KubePodCrashLooping"), runbook("NodeFilesystemSpaceFillingUp")]);
    expect(dotProduct(query, crash!)).toBeGreaterThan(dotProduct(query, disk!) + 0.1);
    const diskQuery = await embedder.embedQuery("the filesystem on node nas is filling up");
    expect(dotProduct(diskQuery, disk!)).toBeGreaterThan(dotProduct(diskQuery, crash!) + 0.1);
  });

  it("treats an alert name and the words it is made of as near neighbours", async () => {
    const embedder = createLexicalEmbedder();
    const [name, words, other] = await embedder.embedDocuments(["KubePodCrashLooping", "kube pod crash looping", "NodeFilesystemSpaceFillingUp"]);
    expect(dotProduct(name!, words!)).toBeCloseTo(1, 9);
    expect(dotProduct(name!, other!)).toBeLessThan(0.3);
    // Word forms meet through stemming and character trigrams.
    const [plural, singular] = await embedder.embedDocuments(["pods restarting", "pod restarts"]);
    expect(dotProduct(plural!, singular!)).toBeGreaterThan(0.6);
  });
});
