import { autoRetry } from "@grammyjs/auto-retry";
import type { Api, Transformer } from "grammy";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { ChatRateLimiter } from "./rate-limit.ts";

/** Calls that only read; Telegram does not count them against a group's message budget. */
const unlimitedMethods = new Set([
  "getChat",
  "getChatMember",
  "getChatAdministrators",
  "getChatMemberCount",
  "getForumTopicIconStickers",
  "sendChatAction",
]);

export interface TransportOptions {
  limiter: ChatRateLimiter;
  metrics?: Metrics;
  logger?: Logger;
  /** Longest retry_after worth waiting for in-process; longer waits are left to the caller (the outbox). */
  maxInlineRetrySeconds?: number;
  maxRetryAttempts?: number;
}

/**
 * Installs the outbound path on a grammY Api: every call that writes to a group chat takes a slot
 * from the shared Redis limiter first; a 429 blocks the chat for every replica; 429 (short waits)
 * and 5xx are retried with backoff by @grammyjs/auto-retry, network errors by the caller. Transformers installed
 * later wrap earlier ones, so each retry passes through the limiter again.
 */
export function installTransport(api: Api, options: TransportOptions): Transport {
  const preAcquired = new WeakSet<object>();
  api.config.use(limitAndCount(options, preAcquired));
  api.config.use(
    autoRetry({
      // Two inline retries (3 s, then 6 s) ride out a blip; anything longer is the outbox's job.
      maxRetryAttempts: options.maxRetryAttempts ?? 2,
      maxDelaySeconds: options.maxInlineRetrySeconds ?? 5,
      // auto-retry would retry a network error without end (maxRetryAttempts does not count those):
      // a send would outlive its outbox lease, and stopping would wait for Telegram to come back.
      // The caller gets the error at once; the outbox retries it with backoff.
      rethrowHttpErrors: true,
    }),
  );
  return {
    markAcquired(payload) {
      preAcquired.add(payload);
    },
  };
}

export interface Transport {
  /**
   * The caller already took a limiter slot for this payload object (the outbox does, so that it
   * reads the newest card content after waiting, not before). Good for one attempt only: a retry
   * of the same payload takes a slot of its own.
   */
  markAcquired(payload: object): void;
}

function limitAndCount({ limiter, metrics, logger }: TransportOptions, preAcquired: WeakSet<object>): Transformer {
  return async (prev, method, payload, signal) => {
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    const limited = typeof chatId === "number" && chatId < 0 && !unlimitedMethods.has(method);
    // grammY types the signal with the abort-controller polyfill; at run time it is the global one.
    if (limited && !preAcquired.delete(payload as object)) await limiter.acquire(chatId, signal as globalThis.AbortSignal | undefined);
    let response;
    try {
      response = await prev(method, payload, signal);
    } catch (error) {
      metrics?.telegramCalls.inc({ method, result: "network" });
      throw error;
    }
    metrics?.telegramCalls.inc({ method, result: response.ok ? "ok" : String(response.error_code) });
    if (!response.ok && response.error_code === 429 && limited) {
      const seconds = response.parameters?.retry_after ?? 5;
      logger?.warn({ method, chatId, retryAfter: seconds }, "telegram flood control: pausing the chat");
      await limiter.block(chatId, seconds * 1000);
    }
    return response;
  };
}
