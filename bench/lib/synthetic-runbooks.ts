import { parseRunbookFile } from "../../src/runbooks/load.ts";
import type { ParsedRunbookText } from "../../src/runbooks/format.ts";
import type { Runbook } from "../../src/runbooks/types.ts";
import { seededRandom } from "./stats.ts";

/**
 * Extra runbooks for scale measurements, made by varying real ones so that the vocabulary, the
 * document lengths and the markdown structure stay what a real library has: each is a real
 * runbook's body with the words of every line shuffled and about a third of them swapped for
 * words drawn from the whole library, under a title made the same way (plus two library words, so
 * no title is a real one). They are plain pages
 * (no front matter), parsed by the real parser. The same seed gives the same library.
 */
export function synthesizeRunbooks(base: readonly Runbook[], count: number, seed = 20_241_121): ParsedRunbookText[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const pool = base.flatMap((rb) => `${rb.title} ${rb.body}`.split(/\s+/)).filter((w) => /[A-Za-z]/.test(w) && !w.startsWith("#"));
  const shuffle = (words: string[]) => {
    for (let i = words.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [words[i], words[j]] = [words[j]!, words[i]!];
    }
    return words;
  };
  const vary = (line: string) => {
    // Headings and fences keep their marker, so the markdown still parses the same way.
    const marker = /^(#{1,6}\s+|```\S*|[-*]\s+|\d+\.\s+|>\s*)?/.exec(line)?.[0] ?? "";
    const words = line.slice(marker.length).split(/\s+/).filter(Boolean);
    return marker + shuffle(words.map((w) => (random() < 0.33 ? pick(pool) : w))).join(" ");
  };

  // A page titled like an alert is matched by name (score 0.95) before any search, so a variation
  // that kept a real title word for word would turn the search benchmark into a name-scan one.
  const normal = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  const taken = new Set(base.flatMap((rb) => [rb.id, rb.title, ...rb.aliases, ...(rb.match?.alerts ?? [])].map(normal)));
  const out: ParsedRunbookText[] = [];
  for (let i = 0; i < count; i++) {
    const source = pick(base);
    let title = vary(`${source.title} ${pick(pool)} ${pick(pool)}`);
    while (taken.has(normal(title))) title = `${title} ${pick(pool)}`;
    const body = source.body.split("\n").map(vary).join("\n");
    const file = `synthetic/synthetic-${String(i).padStart(5, "0")}.md`;
    out.push(parseRunbookFile(file, `# ${title}\n\n${body}\n`));
  }
  return out;
}
