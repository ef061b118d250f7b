import type { Labels } from "./types.ts";

/*
 * Alertmanager identifies an alert by prometheus/common's model.LabelSet.Fingerprint(). Old senders
 * (Alertmanager < 0.19, proxies that rebuild the payload) leave it out; computing it the same way
 * means an alert keeps one identity whether or not the sender included it, and matches what
 * Alertmanager shows in its UI and API (silences, inhibitions).
 */

// FNV-1a 64-bit parameters. Kept as BigInt because the arithmetic is modulo 2^64.
const offsetBasis = 14695981039346656037n;
const prime = 1099511628211n;
const mask = (1n << 64n) - 1n;
// Prometheus separates names and values with 0xff, a byte that never occurs in valid UTF-8, so
// {a="bc"} and {ab="c"} cannot collide by concatenation.
const separator = 0xff;

const utf8 = new TextEncoder();

/** Alertmanager's fingerprint of a label set: 16 lowercase hex digits. */
export function labelsFingerprint(labels: Labels): string {
  // Go sorts label names with sort.Strings, which compares bytes; UTF-16 order differs from byte
  // order for characters above U+FFFF, so compare the encoded names rather than the JS strings.
  const entries = Object.entries(labels).map(([name, value]) => [utf8.encode(name), utf8.encode(value)] as const);
  entries.sort(([a], [b]) => compareBytes(a, b));

  let hash = offsetBasis;
  const add = (byte: number): void => {
    hash = ((hash ^ BigInt(byte)) * prime) & mask;
  };
  for (const [name, value] of entries) {
    for (const byte of name) add(byte);
    add(separator);
    for (const byte of value) add(byte);
    add(separator);
  }
  return hash.toString(16).padStart(16, "0");
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}
