import { createConversation, type Conversation, type ConversationFlavor } from "@grammyjs/conversations";
import { Composer, type Context } from "grammy";
import type { Sql } from "../../db/client.ts";
import { displayName } from "../../decisions/approvers.ts";
import { checkValue, loadForModify, saveModified, type ModifyPlan } from "../../decisions/modify.ts";
import { enqueueRefresh, type Queues } from "../../jobs/queues.ts";
import type { RunbookLibrary } from "../../runbooks/types.ts";
import { bold, code, escapeHtml } from "../render/html.ts";

type Outer = ConversationFlavor<Context>;

export interface ModifyDeps {
  sql: Sql;
  library: () => RunbookLibrary | undefined;
  queues: Queues;
}

/**
 * Modify: the bot asks for each parameter in the card's topic, checks every answer against the
 * runbook's pattern (exactly as the executor will), and puts the new plan on the card, where it
 * waits for Approve like any other. The conversation is keyed by chat, topic and person (see the
 * storage key in bot.ts), so two people modifying in one group do not collide, and it is kept in
 * Postgres, so a restart in the middle loses nothing.
 */
export function modifyFeature(deps: ModifyDeps) {
  async function modify(conversation: Conversation<Outer, Context>, ctx: Context, proposalId: number) {
    const plan = (await conversation.external(() => loadForModify(deps, proposalId))) as ModifyPlan;
    if (!plan.ok) {
      await ctx.reply(escapeHtml(plan.message), { parse_mode: "HTML" });
      return;
    }
    await ctx.reply(
      `✏️ Modify ${bold(plan.title)}: send a value for each parameter, <code>-</code> to keep the one shown, or /cancel.`,
      { parse_mode: "HTML" },
    );
    const values: Record<string, string> = {};
    for (const param of plan.params) {
      const now = param.current === undefined ? "no value yet" : `now ${code(param.current)}`;
      await ctx.reply(`${bold(param.name)}${param.description ? ` — ${escapeHtml(param.description)}` : ""} (${now})`, { parse_mode: "HTML" });
      for (;;) {
        const answer = await conversation.waitFor(":text");
        const text = answer.msg.text.trim();
        if (text === "/cancel" || text.startsWith("/cancel@")) {
          await answer.reply("Cancelled; the card is unchanged.");
          return;
        }
        const value = text === "-" ? param.current : text;
        if (value === undefined) {
          await answer.reply(`${param.name} has no value yet; send one.`);
          continue;
        }
        const problem = await conversation.external(() => checkValue(deps, plan.runbookId, param.name, value));
        if (problem) {
          await answer.reply(`❌ ${escapeHtml(problem)}\nSend another value, or /cancel.`, { parse_mode: "HTML" });
          continue;
        }
        values[param.name] = value;
        break;
      }
    }
    const actor = { id: ctx.from!.id, name: displayName(ctx.from!) };
    const saved = await conversation.external(async () => {
      const result = await saveModified(deps, proposalId, values, actor);
      if (result.ok) await enqueueRefresh(deps.queues, [result.groupId], `modified-${result.proposalId}`);
      return result;
    });
    if (!saved.ok) {
      await ctx.reply(escapeHtml(saved.message), { parse_mode: "HTML" });
      return;
    }
    const summary = Object.entries(values)
      .map(([k, v]) => `${escapeHtml(k)} = ${code(v)}`)
      .join(", ");
    await ctx.reply(`📝 The card now shows the modified plan (${summary}): approve it there.`, { parse_mode: "HTML" });
  }

  const feature = new Composer<Outer>();
  feature.use(createConversation(modify, "modify"));
  return feature;
}
