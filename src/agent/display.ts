import { formatDuration } from "../runbooks/duration.ts";

/**
 * How steps and their outcomes read in a chat: commands as a person would type them, durations as a
 * person would say them. Display only: nothing here is ever handed to a shell or a parser.
 */

const plainWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One argument quoted the way a POSIX shell would need it, so `a b` and `a; b` cannot be misread as
 * two arguments or a second command. Control and non-ASCII characters are shown as escapes in
 * `$'…'`, so a value cannot hide a line break or a look-alike letter from the person approving it.
 */
export function shellQuote(arg: string): string {
  if (arg !== "" && plainWord.test(arg)) return arg;
  if (/^[\x20-\x7e]*$/.test(arg)) return `'${arg.replace(/'/g, `'\\''`)}'`;
  let out = "";
  for (const c of arg) {
    const code = c.codePointAt(0)!;
    if (c === "'" || c === "\\") out += `\\${c}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else if (code >= 0x20 && code < 0x7f) out += c;
    else if (code < 0x100) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return `$'${out}'`;
}

/** An argv as one line a person can read (and could paste into a shell to the same effect). */
export function displayArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** The start of a command for a one-line summary: whole words up to about `max` characters, then `…`. */
export function shortCommand(argv: readonly string[], max = 40): string {
  const words = argv.map(shellQuote);
  let out = words[0] ?? "";
  for (const word of words.slice(1)) {
    if (out.length + 1 + word.length > max) return `${out} …`;
    out += ` ${word}`;
  }
  return out;
}

/** `140ms`, `1.2s`, `45s`, `2m5s`: precise when short, round when long. */
export function humanDuration(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)}ms`;
  if (value < 10_000) {
    const tenths = Math.round(value / 100) / 10;
    return tenths >= 10 ? "10s" : `${tenths}s`;
  }
  return formatDuration(Math.round(value / 1000) * 1000);
}

/** `[200]` → `200`; all of 200-299 → `2xx`; otherwise a short list. */
export function describeStatuses(codes: readonly number[]): string {
  const set = new Set(codes);
  const parts: string[] = [];
  for (let cls = 1; cls <= 5; cls++) {
    const base = cls * 100;
    let whole = true;
    for (let code = base; code < base + 100; code++) if (!set.has(code)) whole = false;
    if (whole) {
      parts.push(`${cls}xx`);
      for (let code = base; code < base + 100; code++) set.delete(code);
    }
  }
  parts.push(...[...set].sort((a, b) => a - b).map(String));
  return parts.join(", ");
}
