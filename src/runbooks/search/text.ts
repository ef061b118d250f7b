/**
 * The one tokenizer behind every part of search: the sparse (BM25) vectors, the lexical embedder
 * and anything that explains a match. If the sparse encoder and the index disagreed about what a
 * word is, a runbook would never match its own alert name, so there is exactly one of these.
 *
 * Alert names are identifiers (`KubePodCrashLooping`, `etcdHighFsyncDurations`), runbooks are prose
 * and markdown; both have to land on the same words. Changing anything here changes every stored
 * sparse vector, so bump `TOKENIZER_VERSION` (the encoders put it in their names).
 */

export const TOKENIZER_VERSION = 1;

/**
 * Function words, plus what markdown and links leave behind. Deliberately kept out: `not`, `no`,
 * `up`, `down`, `out`, `off`, `over`, `under`, `above`, `below` — in alert names they are the
 * meaning (`KubeNodeNotReady`, `TargetDown`, `CrashLoopBackOff`, `NodeFilesystemAlmostOutOfSpace`).
 */
export const stopWords: ReadonlySet<string> = new Set([
  // English
  "a", "about", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
  "be", "because", "been", "before", "being", "between", "both", "but", "by", "can", "could", "did",
  "do", "does", "doing", "during", "each", "eg", "etc", "few", "for", "from", "further", "had", "has",
  "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "ie", "if", "in", "into",
  "is", "it", "its", "itself", "just", "may", "me", "might", "more", "most", "must", "my", "nor", "of",
  "on", "once", "only", "or", "other", "our", "ours", "own", "same", "shall", "she", "should", "so",
  "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they",
  "this", "those", "through", "to", "too", "until", "very", "via", "was", "we", "were", "what", "when",
  "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
  // markdown, HTML entities and links
  "amp", "com", "gt", "href", "htm", "html", "https", "img", "lt", "md", "nbsp", "org", "png", "quot",
  "svg", "www",
]);

/** Words the suffix rules would mangle into something that collides or misleads. */
const unstemmed: ReadonlySet<string> = new Set([
  "alias", "always", "bias", "canvas", "chaos", "corpus", "kubernetes", "lens", "news", "postgres",
  "redis", "series", "species", "status",
]);

const upper = /\p{Lu}/u;
const digit = /\p{N}/u;
const letter = /\p{L}/u;
const runs = /[\p{L}\p{N}]+/gu;
const marks = /\p{M}+/gu;

/**
 * Words as written, lowercased, before stop words and stemming: split on anything that is not a
 * letter or digit, at lower→Upper (`etcdHigh`), at the end of an acronym (`APIError` → `API`,
 * `Error`) and between letters and digits (`ipv4` → `ipv`, `4`, and the whole `ipv4` as well).
 */
export function splitWords(text: string): string[] {
  // NFKD then dropping marks folds accents (`café` → `cafe`) so a runbook and an alert written by
  // different people still share words.
  const folded = text.normalize("NFKD").replace(marks, "");
  const words: string[] = [];
  for (const match of folded.matchAll(runs)) {
    const run = [...match[0]];
    let start = 0;
    for (let i = 1; i < run.length; i++) {
      const prev = run[i - 1]!;
      const cur = run[i]!;
      const next = run[i + 1];
      const prevDigit = digit.test(prev);
      const curDigit = digit.test(cur);
      const prevUpper = upper.test(prev);
      const curUpper = upper.test(cur);
      const boundary =
        prevDigit !== curDigit ||
        (!prevDigit && !prevUpper && curUpper) ||
        (prevUpper && curUpper && next !== undefined && letter.test(next) && !upper.test(next));
      if (boundary) {
        words.push(run.slice(start, i).join("").toLowerCase());
        start = i;
      }
    }
    words.push(run.slice(start).join("").toLowerCase());
    // Short identifiers mixing letters and digits are names in their own right (`k8s`, `x509`,
    // `5xx`, `ipv6`): splitting alone would leave only fragments too short to keep.
    if (start > 0 && run.length <= 8 && run.some((c) => digit.test(c)) && run.some((c) => letter.test(c))) {
      words.push(match[0].toLowerCase());
    }
  }
  return words;
}

const vowel = /[aeiouy]/;

/** `stopp` → `stop`, but `fill`, `miss`, `buzz` stay, and nothing shrinks below three letters. */
function undouble(stemmed: string): string {
  const n = stemmed.length;
  const last = stemmed[n - 1]!;
  if (n > 3 && last === stemmed[n - 2] && !"aeiouylsz".includes(last)) return stemmed.slice(0, -1);
  return stemmed;
}

/**
 * Light, conservative suffix stripping — not Porter. It only has to make the forms an alert and a
 * runbook use for the same thing meet (`pods`/`pod`, `looping`/`loop`, `throttled`/`throttling`/
 * `throttle`, `entries`/`entry`), and never merge unrelated short words, so:
 * - words of three letters or fewer, words with digits and a short exception list are left alone;
 * - plurals: `-ies` → `-y`, `-sses` → `-ss`, `-xes`/`-ches`/`-shes` lose `-es`, otherwise a final
 *   `-s` goes unless the word ends in `-ss`, `-us` or `-is` (`ingress`, `prometheus`, `analysis`);
 * - `-ing` and `-ed` (not `-eed`: `speed`, `exceed`) go when at least three letters with a vowel
 *   remain (`string`, `used` stay), undoubling a final consonant (`stopped` → `stop`);
 * - a final `-e` goes from words of five letters or more, so `throttle` meets `throttled`, while
 *   short words (`node`, `kube`, `fire`) stay readable.
 */
export function stem(word: string): string {
  if (word.length <= 3 || unstemmed.has(word) || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.endsWith("xes") || w.endsWith("ches") || w.endsWith("shes")) w = w.slice(0, -2);
  else if (w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us") && !w.endsWith("is")) w = w.slice(0, -1);

  if (w.endsWith("ing")) {
    const base = w.slice(0, -3);
    if (base.length >= 3 && vowel.test(base)) w = undouble(base);
  } else if (w.endsWith("ed") && !w.endsWith("eed")) {
    const base = w.slice(0, -2);
    if (base.length >= 3 && vowel.test(base)) w = undouble(base);
  }

  if (w.length >= 5 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

/** Search terms in reading order (duplicates kept: term frequency and bigrams need them). */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const word of splitWords(text)) {
    if (stopWords.has(word)) continue;
    const term = stem(word);
    if (term.length >= 2) tokens.push(term);
  }
  return tokens;
}
