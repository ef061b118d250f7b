import { Composer } from "grammy";
import type { Sql } from "../../db/client.ts";
import { postNotice } from "../outbox/cards.ts";
import { replyTarget } from "./reply.ts";

export function helpFeature(deps: { sql: Sql; chatId: number }) {
  const feature = new Composer();
  feature.command(["help", "start"], async (ctx) => {
    const text = [
      "<b>topicops</b> posts every alert into its forum topic and keeps the card current (firing → resolved).",
      "",
      "/status — what is firing right now",
      "/help — this message",
    ].join("\n");
    await postNotice(deps.sql, { chatId: deps.chatId, ...replyTarget(ctx), text });
  });
  return feature;
}
