import type { MessageEntity } from "grammy/types";

/**
 * What Telegram does to a formatted text after parsing and before storing it, so the fake stores
 * (and compares, for "message is not modified") the same text and entities a person would see:
 * control characters become spaces, `\r` disappears, whitespace is trimmed at both ends, entities
 * that cover only whitespace vanish, adjacent bold/italic/… runs merge, and formatting inside
 * code/pre is dropped.
 */

// Telegram orders entities by offset, longer first, then outer kinds before inner ones.
const TYPE_PRIORITY: Record<string, number> = {
  blockquote: 0,
  expandable_blockquote: 0,
  pre: 11,
  code: 20,
  text_link: 49,
  text_mention: 49,
  bold: 90,
  italic: 91,
  underline: 92,
  strikethrough: 93,
  spoiler: 94,
  custom_emoji: 99,
};

function priority(entity: MessageEntity): number {
  if (entity.type === "pre" && entity.language) return 10;
  return TYPE_PRIORITY[entity.type] ?? 50;
}

export function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return [...entities]
    .sort((a, b) => a.offset - b.offset || b.length - a.length || priority(a) - priority(b))
    .map(({ offset, length, type, ...extra }) => ({ offset, length, type, ...extra }) as MessageEntity);
}

const SPLITTABLE = new Set(["bold", "italic", "underline", "strikethrough", "spoiler"]);
const BLOCKQUOTES = new Set(["blockquote", "expandable_blockquote"]);
const CODE_LIKE = new Set(["pre", "code"]);
// Entities whose meaning is not the visible text itself; Telegram keeps them even over whitespace.
const HIDDEN_DATA = new Set(["text_link", "text_mention", "custom_emoji", "date_time"]);

const end = (e: MessageEntity): number => e.offset + e.length;
const overlaps = (a: MessageEntity, b: MessageEntity): boolean => a.offset < end(b) && b.offset < end(a);
const contains = (outer: MessageEntity, inner: MessageEntity): boolean =>
  outer.offset <= inner.offset && end(inner) <= end(outer);

/** Applies Telegram's nesting rules (see MessageEntity in the Bot API docs). */
export function fixEntities(input: MessageEntity[]): MessageEntity[] {
  const sorted = sortEntities(input.filter((e) => e.length > 0));
  const splittable = sorted.filter((e) => SPLITTABLE.has(e.type));
  const blockquotes: MessageEntity[] = [];
  for (const quote of sorted.filter((e) => BLOCKQUOTES.has(e.type))) {
    if (!blockquotes.some((kept) => overlaps(kept, quote))) blockquotes.push(quote);
  }
  // "All other entities can't contain each other": the outer (earlier sorted) one wins.
  const continuous: MessageEntity[] = [];
  for (const entity of sorted.filter((e) => !SPLITTABLE.has(e.type) && !BLOCKQUOTES.has(e.type))) {
    if (continuous.some((kept) => overlaps(kept, entity))) continue;
    if (blockquotes.some((quote) => overlaps(quote, entity) && !contains(quote, entity))) continue;
    continuous.push(entity);
  }

  const codeRanges = continuous.filter((e) => CODE_LIKE.has(e.type));
  const merged: MessageEntity[] = [];
  for (const type of SPLITTABLE) {
    const runs: Array<{ start: number; stop: number }> = [];
    for (const e of splittable.filter((s) => s.type === type)) {
      const last = runs[runs.length - 1];
      if (last && e.offset <= last.stop) last.stop = Math.max(last.stop, end(e));
      else runs.push({ start: e.offset, stop: end(e) });
    }
    for (const run of runs) {
      for (const piece of subtract(run, codeRanges)) {
        merged.push({ type, offset: piece.start, length: piece.stop - piece.start } as MessageEntity);
      }
    }
  }
  return sortEntities([...blockquotes, ...continuous, ...merged]);
}

function subtract(
  run: { start: number; stop: number },
  holes: MessageEntity[],
): Array<{ start: number; stop: number }> {
  let pieces = [run];
  for (const hole of holes) {
    const next: Array<{ start: number; stop: number }> = [];
    for (const p of pieces) {
      if (hole.offset >= p.stop || end(hole) <= p.start) {
        next.push(p);
        continue;
      }
      if (hole.offset > p.start) next.push({ start: p.start, stop: hole.offset });
      if (end(hole) < p.stop) next.push({ start: end(hole), stop: p.stop });
    }
    pieces = next;
  }
  return pieces;
}

/**
 * Returns the text and entities as Telegram would store them, or `undefined` when nothing but
 * whitespace is left (Telegram: "message text is empty").
 */
export function normalizeFormattedText(
  rawText: string,
  rawEntities: MessageEntity[],
): { text: string; entities: MessageEntity[] } | undefined {
  // 1. Characters Telegram rewrites or drops, with a map from old to new UTF-16 positions.
  let text = "";
  const map: number[] = new Array<number>(rawText.length + 1);
  for (let i = 0; i < rawText.length; i++) {
    map[i] = text.length;
    const code = rawText.charCodeAt(i);
    if (code === 0x0d) continue;
    if (code >= 0x2028 && code <= 0x202e) continue; // line/paragraph separators and bidi overrides
    if (code === 0x0333 || code === 0x033f || code === 0x030a) continue; // combining "vertical lines"
    text += code < 0x20 && code !== 0x0a ? " " : rawText[i];
  }
  map[rawText.length] = text.length;
  const at = (position: number): number => map[Math.min(Math.max(position, 0), rawText.length)] as number;
  let entities = rawEntities.map((e) => {
    const offset = at(e.offset);
    return { ...e, offset, length: at(e.offset + e.length) - offset };
  });

  // 2. Nesting rules.
  entities = fixEntities(entities);

  // 3. Entities lose leading whitespace; whitespace-only ones disappear.
  const isBlank = (ch: string | undefined): boolean => ch === " " || ch === "\n";
  entities = entities
    .map((e) => {
      if (HIDDEN_DATA.has(e.type)) return e;
      let { offset, length } = e;
      while (length > 0 && isBlank(text[offset])) {
        offset++;
        length--;
      }
      return { ...e, offset, length };
    })
    .filter((e) => {
      if (e.length <= 0) return false;
      if (HIDDEN_DATA.has(e.type)) return true;
      return /[^ \n]/.test(text.slice(e.offset, end(e)));
    });

  // 4. Trim the text: right side clips entities, left side stops at the first entity.
  let last = text.length;
  while (last > 0 && isBlank(text[last - 1])) last--;
  if (last === 0) return undefined;
  text = text.slice(0, last);
  entities = entities
    .filter((e) => e.offset < last)
    .map((e) => (end(e) > last ? { ...e, length: last - e.offset } : e));
  const firstEntity = entities.reduce((min, e) => Math.min(min, e.offset), text.length);
  let first = 0;
  while (first < firstEntity && isBlank(text[first])) first++;
  if (first > 0) {
    text = text.slice(first);
    entities = entities.map((e) => ({ ...e, offset: e.offset - first }));
  }
  return { text, entities: sortEntities(entities) };
}

/**
 * `bot_command` entities as Telegram clients mark them: `/word` (1-64 of `[A-Za-z0-9_]`), optionally
 * `@botname`, not glued to a preceding or following word character, `/`, `<` or `>`.
 */
export function findBotCommands(text: string): MessageEntity[] {
  const pattern = /(?<![\p{L}\p{N}_/<>])\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\p{L}\p{N}_/<>@])/gu;
  const found: MessageEntity[] = [];
  for (const match of text.matchAll(pattern)) {
    found.push({ type: "bot_command", offset: match.index, length: match[0].length });
  }
  return found;
}

/** Deep equality for JSON-like values (entities, keyboards); key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keysA = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const keysB = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return keysA.length === keysB.length && keysA.every((k) => jsonEqual(ra[k], rb[k]));
}
