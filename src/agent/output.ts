/**
 * What a step printed or a server answered, made fit for a chat message and the database: bounded
 * in size (head and tail kept, the middle counted), free of terminal control codes, and with every
 * known secret value replaced.
 */

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024;

/** Same marker as the logger's redaction, so a reader learns one word for "a secret was here". */
export const REDACTED = "[redacted]";

export interface Redactor {
  /** Text with every secret (and its JSON- and URL-encoded forms) replaced by REDACTED. */
  redact(text: string): string;
  /** Where secrets occur in `text`, as sorted, merged [start, end) ranges. */
  ranges(text: string): Array<[number, number]>;
  /** Byte length of the longest form searched for: how far a secret can reach across a cut. */
  readonly longestBytes: number;
}

/**
 * The text without its backslashes, `\uXXXX` decoded, and where each remaining character came from.
 * A program that echoes a secret inside JSON (or JSON inside JSON) escapes it once per level; with
 * every backslash gone, the secret (without its own backslashes) reads the same at any depth.
 */
function unescapedView(text: string): { view: string; start: number[]; end: number[] } {
  let view = "";
  const start: number[] = [];
  const end: number[] = [];
  let i = 0;
  while (i < text.length) {
    let j = i;
    while (text[j] === "\\") j++;
    if (j >= text.length) break;
    const hex = j > i && text[j] === "u" ? /^[0-9a-fA-F]{4}/.exec(text.slice(j + 1, j + 5)) : null;
    const next = hex ? j + 5 : j + 1;
    view += hex ? String.fromCharCode(parseInt(hex[0], 16)) : text[j];
    start.push(i);
    end.push(next);
    i = next;
  }
  return { view, start, end };
}

/** A secret as it reads in the unescaped view: JSON writes a line break as `\n`, which becomes `n`. */
const escapeLetters: Readonly<Record<string, string>> = { "\n": "n", "\r": "r", "\t": "t", "\b": "b", "\f": "f" };
function unescapedNeedle(secret: string): string {
  return secret.replace(/\\/g, "").replace(/[\n\r\t\b\f]/g, (c) => escapeLetters[c] ?? c);
}

function occurrences(haystack: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) found.push(at);
  return found;
}

/** How much longer than itself a secret can get by escaping: `"` is `\\\\\\\"` three levels down. */
const ESCAPED_GROWTH = 8;

export function createRedactor(secrets: Iterable<string | undefined>): Redactor {
  const raw = new Set<string>();
  // Even a one-character secret is redacted: mangled output is visible and fixable, a leak is not.
  for (const secret of secrets) if (typeof secret === "string" && secret !== "") raw.add(secret);
  const values = [...raw];
  // Searched in the text as it is: the value itself and its URL-encoded forms (either hex case).
  const literal = new Set<string>();
  const unescaped = new Set(values.map(unescapedNeedle).filter((n) => n !== ""));
  for (const value of values) {
    literal.add(value);
    const encoded = encodeURIComponent(value);
    literal.add(encoded);
    literal.add(encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  }
  const longestBytes = values.reduce((max, v) => Math.max(max, Buffer.byteLength(v) * ESCAPED_GROWTH), 0);

  const ranges = (text: string): Array<[number, number]> => {
    if (values.length === 0) return [];
    const found: Array<[number, number]> = [];
    for (const needle of literal) for (const at of occurrences(text, needle)) found.push([at, at + needle.length]);
    if (text.includes("\\")) {
      const { view, start, end } = unescapedView(text);
      for (const needle of unescaped) for (const at of occurrences(view, needle)) found.push([start[at]!, end[at + needle.length - 1]!]);
    }
    found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const merged: Array<[number, number]> = [];
    for (const range of found) {
      const last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
      else merged.push([range[0], range[1]]);
    }
    return merged;
  };

  const redact = (text: string): string => {
    let out = "";
    let pos = 0;
    for (const [from, to] of ranges(text)) {
      out += text.slice(pos, from) + REDACTED;
      pos = to;
    }
    return out + text.slice(pos);
  };

  return { redact, ranges, longestBytes };
}

/**
 * Terminal control sequences (colours, cursor moves) and other control characters become nothing;
 * carriage returns (progress bars) become line breaks. Chat clients show them as garbage otherwise.
 */
export function cleanText(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x1b) {
      i = skipEscape(text, i);
      continue;
    }
    if (code === 0x0d) {
      out += "\n";
      i += text.charCodeAt(i + 1) === 0x0a ? 2 : 1;
      continue;
    }
    if ((code < 0x20 && code !== 0x0a && code !== 0x09) || code === 0x7f) {
      i++;
      continue;
    }
    out += text[i];
    i++;
  }
  return out;
}

/** The index after an escape sequence starting at `start`: CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ST`) or ESC + one character. */
function skipEscape(text: string, start: number): number {
  const kind = text[start + 1];
  if (kind === "[") {
    let i = start + 2;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      i++;
      if (c >= 0x40 && c <= 0x7e) break;
    }
    return i;
  }
  if (kind === "]") {
    let i = start + 2;
    while (i < text.length) {
      if (text.charCodeAt(i) === 0x07) return i + 1;
      if (text.charCodeAt(i) === 0x1b && text[i + 1] === "\\") return i + 2;
      i++;
    }
    return i;
  }
  return Math.min(text.length, start + 2);
}

/** Leading blank lines and trailing whitespace carry nothing in a message. */
export function trimText(text: string): string {
  return text.replace(/^(?:[ \t]*\n)+/, "").trimEnd();
}

export interface OutputCapture {
  write(chunk: Buffer | string): void;
  readonly totalBytes: number;
  /** The kept output: cleaned, redacted, trimmed, with "… N bytes omitted …" where the middle was. */
  text(): string;
}

export interface OutputCaptureOptions {
  maxBytes?: number;
  redactor?: Redactor;
}

/**
 * Keeps the first and the last half of `maxBytes` of a stream of any size, in bounded memory. Both
 * halves keep a margin as long as the longest secret, so a secret cut by the omitted middle is still
 * recognised and hidden whole rather than shown in part.
 */
export function createOutputCapture(options: OutputCaptureOptions = {}): OutputCapture {
  const maxBytes = Math.max(2, Math.floor(options.maxBytes ?? DEFAULT_MAX_OUTPUT_BYTES));
  const redactor = options.redactor ?? createRedactor([]);
  const half = Math.floor(maxBytes / 2);
  const cap = half + redactor.longestBytes;
  const head: Buffer[] = [];
  let headBytes = 0;
  let tail: Buffer[] = [];
  let tailBytes = 0;
  let totalBytes = 0;

  const write = (chunk: Buffer | string): void => {
    let buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    totalBytes += buf.length;
    if (headBytes < cap) {
      const take = Math.min(cap - headBytes, buf.length);
      head.push(buf.subarray(0, take));
      headBytes += take;
      buf = buf.subarray(take);
    }
    if (buf.length === 0) return;
    tail.push(buf);
    tailBytes += buf.length;
    // Drop whole chunks from the front while the rest still covers the cap; slice the last one.
    while (tail.length > 1 && tailBytes - tail[0]!.length >= cap) tailBytes -= tail.shift()!.length;
    if (tailBytes > cap) {
      tail = [Buffer.concat(tail).subarray(tailBytes - cap)];
      tailBytes = cap;
    }
  };

  /** Redacted before cleaning (a secret with odd bytes) and after (a secret split by colour codes). */
  const render = (buf: Buffer): string => redactor.redact(cleanText(redactor.redact(buf.toString("utf8"))));

  const text = (): string => {
    const headBuf = Buffer.concat(head);
    const tailBuf = Buffer.concat(tail);
    if (totalBytes <= maxBytes) return trimText(render(Buffer.concat([headBuf, tailBuf])));
    const all = totalBytes === headBuf.length + tailBuf.length ? Buffer.concat([headBuf, tailBuf]) : undefined;
    const headArea = all ? all.subarray(0, Math.min(all.length, cap)) : headBuf;
    const tailArea = all ? all.subarray(Math.max(0, all.length - cap)) : tailBuf;

    // Each half is rendered with its margin, then cut where the margin-less rendering stops agreeing
    // with it: a secret crossing the cut is a marker in one and raw text in the other, so the cut
    // lands before it and no part of it is shown.
    const headCut = utf8BoundaryBefore(headArea, Math.min(half, headArea.length));
    const headText = render(headArea);
    const headEnd = outOfMarker(headText, commonPrefixLength(headText, render(headArea.subarray(0, headCut))), "end");
    const tailCut = utf8BoundaryAfter(tailArea, Math.max(0, tailArea.length - half));
    const tailText = render(tailArea);
    const tailStart = outOfMarker(tailText, tailText.length - commonSuffixLength(tailText, render(tailArea.subarray(tailCut))), "start");

    const omitted = Math.max(0, totalBytes - headCut - (tailArea.length - tailCut));
    return `${trimText(headText.slice(0, headEnd))}\n… ${omitted} bytes omitted …\n${tailText.slice(tailStart).trimEnd()}`;
  };

  return {
    write,
    get totalBytes() {
      return totalBytes;
    },
    text,
  };
}

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function commonSuffixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[a.length - 1 - i] === b[b.length - 1 - i]) i++;
  return i;
}

/** A cut inside a REDACTED marker moves to the marker's end (`end`) or start (`start`): whole markers only. */
function outOfMarker(text: string, at: number, keep: "end" | "start"): number {
  for (let i = text.indexOf(REDACTED); i >= 0 && i < at; i = text.indexOf(REDACTED, i + 1)) {
    if (at > i && at < i + REDACTED.length) return keep === "end" ? i + REDACTED.length : i;
  }
  return at;
}

const isContinuation = (byte: number | undefined): boolean => byte !== undefined && (byte & 0xc0) === 0x80;

/** The largest index ≤ `at` that does not split a UTF-8 character. */
function utf8BoundaryBefore(buf: Buffer, at: number): number {
  let i = at;
  while (i > 0 && i > at - 4 && isContinuation(buf[i])) i--;
  return i;
}

/** The smallest index ≥ `at` that does not split a UTF-8 character. */
function utf8BoundaryAfter(buf: Buffer, at: number): number {
  let i = at;
  while (i < buf.length && i < at + 4 && isContinuation(buf[i])) i++;
  return i;
}
