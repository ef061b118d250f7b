import type { Context } from "grammy";

/** Where a reply to this message goes: the same forum topic (or General), answering the message. */
export function replyTarget(ctx: Context): { threadId: number | null; replyToMessageId: number | null } {
  const message = ctx.message ?? ctx.callbackQuery?.message;
  const threadId = message && "is_topic_message" in message && message.is_topic_message ? (message.message_thread_id ?? null) : null;
  return { threadId, replyToMessageId: ctx.message?.message_id ?? null };
}
