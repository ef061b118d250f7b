import { createHash } from "node:crypto";
import type { Update } from "grammy/types";
import { createCallbackCodec, type CallbackCodec } from "../../src/telegram/callback-data.ts";

/**
 * The codec the service signs its buttons with, derived as src/main.ts derives it (a key from the
 * bot token), so a benchmark can press a button Telegram never showed: a card folded into a rollup
 * has no message of its own to read the button off.
 */
export function serviceButtonCodec(botToken: string): CallbackCodec {
  return createCallbackCodec(createHash("sha256").update(`topicops-buttons:${botToken}`).digest("hex"));
}

/** A card button's callback data as src/decisions/card.ts builds it: the verb, the proposal, its expiry. */
export function buttonData(codec: CallbackCodec, verb: string, proposalId: number, expiresAt: Date): string {
  return codec.encode(verb, [proposalId], { expiresAt });
}

/** POST /telegram as Telegram delivers an update in webhook mode, with the secret header. */
export function postTelegramUpdate(serviceUrl: string, secret: string, update: Update, timeoutMs = 30_000): Promise<Response> {
  return fetch(`${serviceUrl}/telegram`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
    body: JSON.stringify(update),
    // A service that stops answering must show up as failed presses, not hang the benchmark.
    signal: AbortSignal.timeout(timeoutMs),
  });
}
