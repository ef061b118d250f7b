import type { MessageEntity } from "grammy/types";
import { sortEntities } from "./format.ts";

/**
 * Telegram's `parse_mode: "HTML"`, reimplemented from its documented and observed behaviour so tests
 * fail where Telegram would answer `400 Bad Request: can't parse entities: …`.
 *
 * The parser walks UTF-8 bytes because Telegram reports positions as byte offsets in the UTF-8
 * source ("… at byte offset 12"), while entity offsets/lengths are UTF-16 code units.
 */

export interface ParsedHtml {
  text: string;
  entities: MessageEntity[];
}

export interface ParseHtmlOptions {
  /**
   * Telegram itself keeps an unknown named entity such as `&nbsp;` as literal text and accepts
   * `<a>` inside `<a>`. Both are almost always a rendering bug (a missed escape, a link template
   * applied twice), so by default the fake rejects them; pass `strict: false` for Telegram's exact
   * leniency.
   */
  strict?: boolean;
}

const SUPPORTED_TAGS = new Set([
  "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "tg-emoji", "tg-time",
  "code", "pre", "blockquote",
]);

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SLASH = 0x2f;
const EQ = 0x3d;
const QUOT = 0x22;
const APOS = 0x27;
const SEMI = 0x3b;
const HASH = 0x23;

interface OpenTag {
  tag: string;
  argument: string;
  // tg-time carries two attributes; everything else needs at most one
  format: string | undefined;
  expandable: boolean;
  utf16Start: number;
  outStart: number;
  byteOffset: number;
}

type DateTimeFormat = Extract<MessageEntity, { type: "date_time" }>["date_time_format"];

// Entity being built; `language` is kept on code until we know whether a <pre> wraps it.
type Draft = MessageEntity & { codeLanguage?: string };

export function parseTelegramHtml(html: string, options: ParseHtmlOptions = {}): ParsedHtml {
  const strict = options.strict ?? true;
  const src = Buffer.from(html, "utf8");
  const n = src.length;
  // Reading past the end yields 0, which Telegram's parser also treats as "end of input".
  const at = (i: number): number => (i < n ? (src[i] as number) : 0);

  const out: number[] = [];
  const stack: OpenTag[] = [];
  const entities: Draft[] = [];
  let utf16 = 0;
  let sawSurrogate = false;

  const appendCodePoint = (code: number): void => {
    if (code >= 0xd800 && code <= 0xdfff) {
      sawSurrogate = true;
      return;
    }
    for (const byte of Buffer.from(String.fromCodePoint(code), "utf8")) out.push(byte);
    utf16 += code > 0xffff ? 2 : 1;
  };

  let i = 0;
  while (i < n) {
    const c = at(i);
    if (c === AMP) {
      const decoded = decodeEntity(src, i);
      if (decoded) {
        appendCodePoint(decoded.code);
        i = decoded.next;
        continue;
      }
      if (strict && isAlpha(at(i + 1))) {
        let end = i + 1;
        while (isAlpha(at(end))) end++;
        const name = src.subarray(i, at(end) === SEMI ? end + 1 : end).toString("utf8");
        fail(
          `Unsupported HTML entity "${name}" at byte offset ${i} (Telegram would show it as literal text; ` +
            `escape "&" as "&amp;")`,
        );
      }
    }
    if (c !== LT) {
      out.push(c);
      if ((c & 0xc0) !== 0x80) utf16 += c >= 0xf0 ? 2 : 1;
      i++;
      continue;
    }

    const begin = i;
    i++;
    if (at(i) !== SLASH) {
      while (!isSpace(at(i)) && at(i) !== GT) i++;
      if (i >= n) fail(`Unclosed start tag at byte offset ${begin}`);
      const tag = ascii(src, begin + 1, i).toLowerCase();
      if (!SUPPORTED_TAGS.has(tag)) fail(`Unsupported start tag "${tag}" at byte offset ${begin}`);

      let argument = "";
      let format: string | undefined;
      let expandable = false;
      while (at(i) !== GT) {
        while (i < n && isSpace(at(i))) i++;
        if (at(i) === GT) break;
        const nameStart = i;
        while (!isSpace(at(i)) && at(i) !== EQ && at(i) !== GT) i++;
        const attribute = ascii(src, nameStart, i);
        if (attribute === "") fail(`Empty attribute name in the tag "${tag}" at byte offset ${begin}`);
        while (i < n && isSpace(at(i))) i++;
        if (at(i) !== EQ) {
          // The only valueless attribute Telegram knows.
          if (tag === "blockquote" && attribute === "expandable") {
            expandable = true;
            continue;
          }
          fail(`Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${begin}`);
        }
        i++;
        while (i < n && isSpace(at(i))) i++;
        if (i >= n) fail(`Unclosed start tag "${tag}" at byte offset ${begin}`);

        let value: string;
        const quote = at(i);
        if (quote !== QUOT && quote !== APOS) {
          const tokenStart = i;
          while (isAlnum(at(i)) || at(i) === 0x2e || at(i) === 0x2d) i++;
          value = ascii(src, tokenStart, i).toLowerCase();
          if (!isSpace(at(i)) && at(i) !== GT) fail(`Unexpected end of name token at byte offset ${tokenStart}`);
        } else {
          i++;
          const bytes: number[] = [];
          while (i < n && at(i) !== quote) {
            if (at(i) === AMP) {
              const decoded = decodeEntity(src, i);
              if (decoded) {
                for (const byte of Buffer.from(String.fromCodePoint(decoded.code), "utf8")) bytes.push(byte);
                i = decoded.next;
                continue;
              }
            }
            bytes.push(at(i));
            i++;
          }
          if (at(i) === quote) i++;
          value = Buffer.from(bytes).toString("utf8");
        }
        if (i >= n) fail(`Unclosed start tag at byte offset ${begin}`);

        if (tag === "a" && attribute === "href") argument = value;
        else if (tag === "code" && attribute === "class" && value.startsWith("language-")) argument = value.slice(9);
        else if (tag === "span" && attribute === "class" && value.startsWith("tg-")) argument = value.slice(3);
        else if (tag === "tg-emoji" && attribute === "emoji-id") argument = value;
        else if (tag === "tg-time" && attribute === "unix") argument = value;
        else if (tag === "tg-time" && attribute === "format") format = value;
        else if (tag === "blockquote" && attribute === "expandable") expandable = true;
      }

      if (tag === "span" && argument !== "spoiler") {
        fail(`Tag "span" must have class "tg-spoiler" at byte offset ${begin}`);
      }
      if (strict && tag === "a" && stack.some((open) => open.tag === "a")) {
        fail(`Nested "a" tags are not allowed at byte offset ${begin} (Telegram would keep both links)`);
      }
      stack.push({ tag, argument, format, expandable, utf16Start: utf16, outStart: out.length, byteOffset: begin });
      i++;
      continue;
    }

    // End tag.
    const top = stack[stack.length - 1];
    if (!top) fail(`Unexpected end tag at byte offset ${begin}`);
    while (!isSpace(at(i)) && at(i) !== GT) i++;
    const endName = ascii(src, begin + 2, i).toLowerCase();
    while (i < n && isSpace(at(i))) i++;
    if (at(i) !== GT) fail(`Unclosed end tag at byte offset ${begin}`);
    if (endName !== "" && endName !== top.tag) {
      fail(`Unmatched end tag at byte offset ${begin}, expected "</${top.tag}>", found "</${endName}>"`);
    }
    if (utf16 > top.utf16Start) {
      const entity = closeEntity(top, utf16, Buffer.from(out.slice(top.outStart)).toString("utf8"), entities);
      if (entity) entities.push(entity);
    }
    stack.pop();
    i++;
  }

  const unclosed = stack[stack.length - 1];
  if (unclosed) fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  if (sawSurrogate) {
    fail("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units");
  }

  const finished: MessageEntity[] = entities.map((draft) => {
    const { codeLanguage: _drop, ...entity } = draft;
    return entity as MessageEntity;
  });
  return { text: Buffer.from(out).toString("utf8"), entities: sortEntities(finished) };
}

function closeEntity(open: OpenTag, utf16End: number, innerText: string, entities: Draft[]): Draft | undefined {
  const offset = open.utf16Start;
  const length = utf16End - offset;
  switch (open.tag) {
    case "b":
    case "strong":
      return { type: "bold", offset, length };
    case "i":
    case "em":
      return { type: "italic", offset, length };
    case "u":
    case "ins":
      return { type: "underline", offset, length };
    case "s":
    case "strike":
    case "del":
      return { type: "strikethrough", offset, length };
    case "span":
    case "tg-spoiler":
      return { type: "spoiler", offset, length };
    case "blockquote":
      return { type: open.expandable ? "expandable_blockquote" : "blockquote", offset, length };
    case "tg-emoji": {
      if (!/^[0-9]+$/.test(open.argument) || /^0+$/.test(open.argument)) {
        fail("Invalid custom emoji identifier specified");
      }
      return { type: "custom_emoji", offset, length, custom_emoji_id: open.argument };
    }
    case "tg-time": {
      if (!/^-?[0-9]+$/.test(open.argument)) {
        fail("Invalid Unix time specified");
      }
      const format = open.format ?? "";
      if (!/^(r|w?[dD]?[tT]?)$/.test(format)) {
        fail("Invalid date and time format specified");
      }
      return {
        type: "date_time",
        offset,
        length,
        unix_time: Number(open.argument),
        date_time_format: format as DateTimeFormat,
      };
    }
    case "a": {
      const target = open.argument === "" ? innerText : open.argument;
      const mention = /^tg:\/\/user\?id=([0-9]{1,19})$/i.exec(target.trim());
      if (mention) {
        return { type: "text_mention", offset, length, user: { id: Number(mention[1]), is_bot: false, first_name: "" } };
      }
      const url = checkedLink(target);
      // Telegram silently drops links it cannot use instead of failing the message.
      return url === undefined ? undefined : { type: "text_link", offset, length, url };
    }
    case "pre": {
      const last = entities[entities.length - 1];
      if (last && last.type === "code" && last.offset === offset && last.length === length && last.codeLanguage) {
        entities.pop();
        return { type: "pre", offset, length, language: last.codeLanguage };
      }
      return { type: "pre", offset, length };
    }
    case "code": {
      const last = entities[entities.length - 1];
      if (last && last.type === "pre" && last.offset === offset && last.length === length && open.argument) {
        entities.pop();
        return { type: "pre", offset, length, language: open.argument };
      }
      const code: Draft = { type: "code", offset, length };
      if (open.argument) code.codeLanguage = open.argument;
      return code;
    }
    default:
      return undefined;
  }
}

/**
 * What Telegram keeps of an `<a href>`: http(s) links are normalised (scheme added when missing,
 * `/` path when empty), tg:/ton: links pass, anything else (javascript:, garbage) is dropped.
 */
export function checkedLink(raw: string): string | undefined {
  const link = raw.trim();
  if (link === "" || /\s/.test(link)) return undefined;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(link)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === "http" || scheme === "https") {
    try {
      const url = new URL(scheme === undefined ? `http://${link}` : link);
      if (url.hostname === "") return undefined;
      if (scheme === undefined && !url.hostname.includes(".")) return undefined;
      return url.href;
    } catch {
      return undefined;
    }
  }
  if (scheme === "tg" || scheme === "ton" || scheme === "tonsite") return link;
  return undefined;
}

function decodeEntity(src: Buffer, pos: number): { code: number; next: number } | undefined {
  const at = (i: number): number => (i < src.length ? (src[i] as number) : 0);
  let end = pos + 1;
  let code = 0;
  if (at(pos + 1) === HASH) {
    end++;
    if (at(pos + 2) === 0x78 /* x */) {
      end++;
      while (isHexDigit(at(end))) code = code * 16 + parseInt(String.fromCharCode(at(end++)), 16);
    } else {
      while (isDigit(at(end))) code = code * 10 + (at(end++) - 0x30);
    }
    if (code === 0 || code >= 0x10ffff || end - pos >= 10) return undefined;
  } else {
    while (isAlpha(at(end))) end++;
    const name = ascii(src, pos + 1, end);
    const named: Record<string, number> = { lt: 0x3c, gt: 0x3e, amp: 0x26, quot: 0x22 };
    const value = Object.hasOwn(named, name) ? named[name] : undefined;
    if (value === undefined) return undefined;
    code = value;
  }
  return { code, next: at(end) === SEMI ? end + 1 : end };
}

function fail(reason: string): never {
  throw new Error(`can't parse entities: ${reason}`);
}

// Telegram's notion of whitespace inside tags; 0 doubles as end of input.
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x00;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isAlnum(c: number): boolean {
  return isAlpha(c) || isDigit(c);
}
function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
function ascii(src: Buffer, from: number, to: number): string {
  return src.subarray(from, Math.min(to, src.length)).toString("utf8");
}
