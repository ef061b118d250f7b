import { Composer, type Context } from "grammy";
import type { ConversationFlavor } from "@grammyjs/conversations";
import type { Sql } from "../../db/client.ts";
import type { DecisionActions, ActionResult } from "../../decisions/actions.ts";
import { asApprover, displayName, type Approvers } from "../../decisions/approvers.ts";
import { audit } from "../../decisions/audit.ts";
import type { Logger } from "../../logger.ts";
import { enqueueExecutions, enqueueRefresh, type Queues } from "../../jobs/queues.ts";
import type { CallbackCodec } from "../callback-data.ts";

export interface ApprovalsDeps {
  sql: Sql;
  codec: CallbackCodec;
  approvers: Approvers;
  actions: DecisionActions;
  queues: Queues;
  logger: Logger;
}

/** Which card a silence button (sl, us) belongs to, so a stale press can still strip its keyboard. */
async function silenceGroupOf(sql: Sql, verb: string, args: string[]): Promise<number | undefined> {
  if (verb === "sl") return Number(args[0]);
  return (await sql<{ group_id: number }[]>`select group_id from silences where id = ${Number(args[0])}`)[0]?.group_id;
}

/**
 * The card buttons. The handler only reads the press, checks who pressed and whether the button
 * is still valid, asks the decision service, answers, and queues the follow-ups (the card's new
 * state, the run). Everything that must happen exactly once happens in Postgres.
 */
export function approvalsFeature(deps: ApprovalsDeps) {
  const { sql, codec } = deps;
  const feature = new Composer<ConversationFlavor<Context>>();

  feature.on("callback_query:data", async (ctx, next) => {
    const decoded = codec.decode(ctx.callbackQuery.data);
    if (!decoded) return next();
    const { verb, args, expiresAt } = decoded;
    const actor = { id: ctx.from.id, name: displayName(ctx.from) };

    if (Date.now() >= expiresAt.getTime()) {
      await audit(sql, { actorId: actor.id, actorName: actor.name, action: "stale-button", target: `${verb}:${args.join(":")}` });
      // Expire what the button offered, then render the card again: the keyboard goes.
      const groupId = verb === "sl" || verb === "us" ? await silenceGroupOf(sql, verb, args) : await deps.actions.expire(Number(args[0]));
      if (groupId !== undefined) await enqueueRefresh(deps.queues, [groupId], `stale-${ctx.update.update_id}`);
      await ctx.answerCallbackQuery({ text: "This button has expired.", show_alert: true });
      return;
    }
    const approver = await asApprover(deps, ctx.from, {
      target: `${verb}:${args.join(":")}`,
      detail: { reason: "not an approver" },
      tell: () => ctx.answerCallbackQuery({ text: "Only approvers can do that. Ask one of them, or an admin to add you to APPROVER_IDS.", show_alert: true }),
    });
    if (!approver) return;

    let result: ActionResult;
    switch (verb) {
      case "ap":
        result = await deps.actions.approve(Number(args[0]), actor);
        break;
      case "cf":
        result = await deps.actions.confirm(Number(args[0]), actor);
        break;
      case "cx":
        result = await deps.actions.cancel(Number(args[0]), actor);
        break;
      case "ig":
        result = await deps.actions.ignore(Number(args[0]), actor);
        break;
      case "dm":
        result = await deps.actions.demote(Number(args[0]), actor);
        break;
      case "sl":
        result = await deps.actions.silence(Number(args[0]), Number(args[1]), Number(args[2]), actor);
        break;
      case "us":
        result = await deps.actions.unsilence(Number(args[0]), actor);
        break;
      case "md":
        await ctx.answerCallbackQuery({ text: "Send the new values in this topic." });
        await ctx.conversation.enter("modify", Number(args[0]));
        return;
      default:
        await ctx.answerCallbackQuery({ text: "This button is not known (any more).", show_alert: true });
        return;
    }
    // Follow-ups first: what was decided is committed, and a lost answer must not lose the run.
    await enqueueExecutions(deps.queues, result.executions);
    await enqueueRefresh(deps.queues, result.refresh.map((r) => r.groupId), `cb-${ctx.update.update_id}`);
    await ctx.answerCallbackQuery({ text: result.text, show_alert: result.alert ?? false }).catch((error: unknown) => {
      deps.logger.warn({ err: error, verb, data: ctx.callbackQuery.data }, "could not answer the button press");
    });
  });
  return feature;
}
