import { z } from "zod";

/**
 * Durations in runbook files: `500ms`, `30s`, `5m`, `1h`, or combinations from the largest unit
 * down (`1h30m`, `1m30s`). A bare number is refused: `timeout: 30` could mean seconds to one
 * author and milliseconds to the next, and the difference is a step killed 29.97 s early.
 */

const unitMs = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof unitMs;
const unitOrder: readonly Unit[] = ["h", "m", "s", "ms"];

const HINT = "write whole numbers with a unit (ms, s, m, h), e.g. 500ms, 30s, 5m, 1h or 1m30s";

/** Milliseconds, or throws Error with a message fit to show next to the offending value. */
export function parseDuration(input: unknown): number {
  if (typeof input === "number") {
    throw new Error(`a duration needs a unit: write ${input}s, ${input}m or ${input}ms, not ${input}`);
  }
  if (typeof input !== "string") throw new Error(`expected a duration such as 30s, got ${describe(input)}`);
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw new Error(`a duration needs a unit: write ${text}s, ${text}m or ${text}ms, not ${text}`);
  }
  const parts = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (text === "" || !parts) throw new Error(`invalid duration ${JSON.stringify(input)}: ${HINT}`);
  let ms = 0;
  unitOrder.forEach((unit, index) => {
    const digits = parts[index + 1];
    if (digits !== undefined) ms += Number(digits) * unitMs[unit];
  });
  if (!Number.isSafeInteger(ms)) throw new Error(`invalid duration ${JSON.stringify(input)}: too long`);
  return ms;
}

/** `90000` → `1m30s`: the shortest form parseDuration reads back as the same value. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (const unit of unitOrder) {
    const count = Math.floor(rest / unitMs[unit]);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * unitMs[unit];
  }
  return out;
}

export interface DurationLimits {
  /** Inclusive; defaults to 1 ms (a zero timeout or interval is always a mistake). */
  minMs?: number;
  maxMs?: number;
}

/** A zod schema for a duration field, producing milliseconds. */
export function durationSchema(limits: DurationLimits = {}): z.ZodType<number> {
  const minMs = limits.minMs ?? 1;
  return z.unknown().transform((input, ctx) => {
    // `.optional()` never calls this with undefined; a required field that is missing does.
    if (input === undefined) {
      ctx.addIssue({ code: "custom", message: "required", input });
      return z.NEVER;
    }
    let ms: number;
    try {
      ms = parseDuration(input);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message, input });
      return z.NEVER;
    }
    if (ms < minMs) {
      ctx.addIssue({ code: "custom", message: minMs === 1 ? "must be longer than 0s" : `must be at least ${formatDuration(minMs)}`, input });
      return z.NEVER;
    }
    if (limits.maxMs !== undefined && ms > limits.maxMs) {
      ctx.addIssue({ code: "custom", message: `must be at most ${formatDuration(limits.maxMs)}, got ${formatDuration(ms)}`, input });
      return z.NEVER;
    }
    return ms;
  });
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "a map" : typeof value;
}
