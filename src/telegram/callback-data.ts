import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Callback data for inline buttons: `verb:arg:arg:mac`. Telegram allows 64 bytes. The MAC (HMAC
 * over the rest, keyed by a secret only the service knows) means a button cannot be forged by
 * sending made-up callback data from a modified client, and holds across replicas and restarts.
 */
export interface CallbackCodec {
  encode(verb: string, ...args: (string | number)[]): string;
  /** undefined: not ours, malformed, or forged. */
  decode(data: string): { verb: string; args: string[] } | undefined;
}

const MAC_CHARS = 10;

export function createCallbackCodec(secret: string): CallbackCodec {
  const mac = (body: string) => createHmac("sha256", secret).update(body).digest("base64url").slice(0, MAC_CHARS);
  return {
    encode(verb, ...args) {
      const body = [verb, ...args.map(String)].join(":");
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
      return verb ? { verb, args } : undefined;
    },
  };
}
