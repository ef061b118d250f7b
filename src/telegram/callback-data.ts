import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Callback data for inline buttons: `verb:arg:arg:expiry:mac`. Telegram allows 64 bytes. The
 * expiry is in whole minutes since the epoch, base 36: a button is refused from that minute on.
 * The MAC (HMAC over the rest, keyed by a secret only the service knows) means a button cannot be
 * forged by sending made-up callback data from a modified client, nor its expiry moved, and holds
 * across replicas and restarts.
 */
export interface CallbackCodec {
  encode(verb: string, args: readonly (string | number)[], options: { expiresAt: Date }): string;
  /** undefined: not ours, malformed, or forged. */
  decode(data: string): { verb: string; args: string[]; expiresAt: Date } | undefined;
}

const MAC_CHARS = 10;
const EXPIRY_STEP_MS = 60_000;

/** The expiry a button can carry: `at`, down to the whole minute. A button is live before it. */
export function buttonExpiry(at: Date): Date {
  return new Date(Math.floor(at.getTime() / EXPIRY_STEP_MS) * EXPIRY_STEP_MS);
}

export function createCallbackCodec(secret: string): CallbackCodec {
  const mac = (body: string) => createHmac("sha256", secret).update(body).digest("base64url").slice(0, MAC_CHARS);
  return {
    encode(verb, args, options) {
      const expiry = Math.floor(options.expiresAt.getTime() / EXPIRY_STEP_MS).toString(36);
      const body = [verb, ...args.map(String), expiry].join(":");
      const data = `${body}:${mac(body)}`;
      if (Buffer.byteLength(data) > 64) throw new Error(`callback data too long (${data.length} > 64): ${body}`);
      return data;
    },
    decode(data) {
      const cut = data.lastIndexOf(":");
      if (cut <= 0) return undefined;
      const body = data.slice(0, cut);
      const given = Buffer.from(data.slice(cut + 1));
      const expected = Buffer.from(mac(body));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      const [verb, ...args] = body.split(":");
      if (!verb) return undefined;
      const expiry = args.pop();
      return { verb, args, expiresAt: new Date(Number.parseInt(expiry ?? "0", 36) * EXPIRY_STEP_MS) };
    },
  };
}
