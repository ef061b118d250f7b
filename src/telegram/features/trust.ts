import { createConversation, type Conversation, type ConversationFlavor } from "@grammyjs/conversations";
import { Menu, MenuRange, type MenuFlavor } from "@grammyjs/menu";
import { Composer, type Context } from "grammy";
import type { Sql } from "../../db/client.ts";
import { asApprover, displayName, type Approvers } from "../../decisions/approvers.ts";
import type { RunbookLibrary, TrustLevel } from "../../runbooks/types.ts";
import { computeStats, confidenceLevel, percent, type TrustThresholds } from "../../trust/policy.ts";
import { isLockdown, lockdown, runRecords, setLevelByHand } from "../../trust/service.ts";
import { plural } from "../../util/plural.ts";
import { bold, code, escapeHtml, formatTime } from "../render/html.ts";

type Ctx = ConversationFlavor<Context>;
type MenuControl = MenuFlavor["menu"];

export interface TrustDeps {
  sql: Sql;
  library: () => RunbookLibrary | undefined;
  approvers: Approvers;
  thresholds: TrustThresholds;
}

const levelIcon: Record<TrustLevel, string> = { manual: "🟡", prompted: "🟠", standard: "🟢" };
const PAGE = 8;

interface Row {
  id: string;
  title: string;
  level: TrustLevel;
  risk: string;
  pinned_level: string | null;
}

/**
 * /trust: the ladder as a menu (@grammyjs/menu) — runbooks by level, each one's record and level
 * history, and for approvers promote/demote by hand with a reason (asked for in a conversation).
 * /lockdown sends everything back to manual at once; /lockdown off lifts the freeze without
 * restoring levels.
 */
export function trustFeature(deps: TrustDeps) {
  const { sql } = deps;

  async function runbook(id: string): Promise<Row | undefined> {
    const [rb] = await sql<Row[]>`select id, title, level, risk, pinned_level from runbooks where id = ${id}`;
    return rb;
  }

  async function query(): Promise<Row[]> {
    const ids = new Set((deps.library()?.runbooks ?? []).filter((r) => r.kind === "runbook").map((r) => r.id));
    const all = await sql<Row[]>`select id, title, level, risk, pinned_level from runbooks where removed_at is null and kind = 'runbook' order by id`;
    return all.filter((r) => ids.size === 0 || ids.has(r.id));
  }

  // The overview's counts and the menu's list are rendered for the same update: one query serves
  // both, and they cannot disagree.
  const listed = new WeakMap<object, Promise<Row[]>>();
  function rows(ctx: Context): Promise<Row[]> {
    let list = listed.get(ctx.update);
    if (!list) {
      list = query();
      listed.set(ctx.update, list);
    }
    return list;
  }

  async function overview(ctx: Context): Promise<string> {
    const list = await rows(ctx);
    const count = (l: TrustLevel) => list.filter((r) => r.level === l).length;
    const locked = await isLockdown(sql);
    return [
      `🪜 ${bold("Trust ladder")} · ${list.length} runbooks: ${count("standard")} standard, ${count("prompted")} prompted, ${count("manual")} manual`,
      locked ? "🔒 Lockdown is on: everything stays manual and nothing runs on its own until /lockdown off." : "",
      "manual: approve and confirm · prompted: one tap · standard: runs on its own, reports after",
      "Pick a runbook to see its record.",
    ]
      .filter(Boolean)
      .join("\n");
  }

  async function details(id: string): Promise<string> {
    const rb = await runbook(id);
    if (!rb) return `No runbook ${escapeHtml(id)}.`;
    const s = computeStats(await runRecords(sql, id), deps.thresholds);
    const history = await sql<{ from_level: string; to_level: string; reason: string; created_at: Date }[]>`
      select from_level, to_level, reason, created_at from level_changes where runbook_id = ${id} order by id desc limit 5`;
    const lines = [
      `${levelIcon[rb.level]} ${bold(rb.title)} (${code(rb.id)})`,
      `Level: ${rb.level}${rb.pinned_level ? " (set by hand)" : ""} · risk ${escapeHtml(rb.risk)}`,
      `Runs: ${s.runs} (${s.approvedRuns} approved, ${s.unattendedRuns} on its own) · ${s.succeeded} succeeded · ${s.failed} failed`,
      s.runs > 0 ? `Success ${percent(s.successRate, 0)} · ${confidenceLevel(deps.thresholds)} confident it succeeds at least ${percent(s.wilsonLower, 0)} of the time` : "",
      s.recent.length > 0 ? `Latest: ${s.recent.map((o) => (o === "succeeded" ? "✅" : "❌")).join("")}` : "",
    ];
    if (history.length > 0) {
      lines.push("", "Level changes:");
      for (const h of history) lines.push(`• ${escapeHtml(formatTime(h.created_at))}: ${h.from_level} → ${h.to_level} — ${escapeHtml(h.reason)}`);
    }
    return lines.filter((l) => l !== "").join("\n");
  }

  // Handlers answer their presses themselves (a refusal says why), so the menu must not as well.
  const options = { onMenuOutdated: "The list changed; showing it again.", autoAnswer: false } as const;
  const runbookMenu = new Menu<Ctx>("trust-rb", options);
  const mainMenu = new Menu<Ctx>("trust", options);

  mainMenu.dynamic(async (ctx) => {
    const range = new MenuRange<Ctx>();
    const list = await rows(ctx);
    const page = Math.max(0, Number((ctx.match as string | undefined)?.startsWith("p") ? (ctx.match as string).slice(1) : 0));
    for (const rb of list.slice(page * PAGE, page * PAGE + PAGE)) {
      range
        .submenu({ text: `${levelIcon[rb.level]} ${rb.id}`, payload: rb.id.slice(0, 40) }, "trust-rb", async (c) => {
          await c.answerCallbackQuery();
          await c.editMessageText(await details(String(c.match)), { parse_mode: "HTML" });
        })
        .row();
    }
    const turn = async (c: Ctx & { menu: MenuControl }) => {
      await c.answerCallbackQuery();
      await c.menu.update();
    };
    if (page > 0) range.text({ text: "◀", payload: `p${page - 1}` }, turn);
    if ((page + 1) * PAGE < list.length) range.text({ text: "▶", payload: `p${page + 1}` }, turn);
    return range;
  });

  const byHand = (to: "promote" | "demote") => async (ctx: Ctx) => {
    const id = String(ctx.match);
    const approver = await asApprover(deps, ctx.from, {
      target: `trust:${to}:${id}`,
      tell: () => ctx.answerCallbackQuery({ text: "Only approvers can change a runbook's level.", show_alert: true }),
    });
    if (!approver) return;
    await ctx.answerCallbackQuery();
    await ctx.conversation.enter("trust-reason", id, to);
  };
  runbookMenu.dynamic((ctx) => {
    const id = String(ctx.match);
    return new MenuRange<Ctx>()
      .text({ text: "⬆️ Promote", payload: id }, byHand("promote"))
      .text({ text: "⬇️ Demote", payload: id }, byHand("demote"))
      .row()
      .back({ text: "« All runbooks", payload: "p0" }, async (c) => {
        await c.answerCallbackQuery();
        await c.editMessageText(await overview(c), { parse_mode: "HTML" });
      });
  });
  mainMenu.register(runbookMenu);

  async function reason(conversation: Conversation<Ctx, Context>, ctx: Context, id: string, direction: "promote" | "demote") {
    // A list, the shape conversations already under way have stored for this step (they replay it).
    const [rb] = await conversation.external(async (): Promise<Row[]> => {
      const found = await runbook(id);
      return found ? [found] : [];
    });
    if (!rb) return;
    const order: TrustLevel[] = ["manual", "prompted", "standard"];
    const to = order[order.indexOf(rb.level) + (direction === "promote" ? 1 : -1)];
    if (!to) {
      await ctx.reply(`${rb.id} is ${rb.level} already.`);
      return;
    }
    await ctx.reply(`Why ${direction} ${rb.id} to ${to}? One line, or /cancel.`);
    const answer = await conversation.waitFor(":text");
    const text = answer.msg.text.trim();
    if (text.startsWith("/cancel")) {
      await answer.reply("Nothing changed.");
      return;
    }
    const actor = { id: ctx.from!.id, name: displayName(ctx.from!) };
    const result = await conversation.external(() =>
      setLevelByHand(sql, { runbookId: rb.id, to, reason: text.slice(0, 300), actorId: actor.id, actorName: actor.name, risk: rb.risk as never }),
    );
    if ("refused" in result) {
      await answer.reply(`Not changed: ${result.refused}.`);
      return;
    }
    await answer.reply(`${direction === "promote" ? "⬆️" : "⬇️"} ${bold(rb.title)}: ${result.from} → ${result.to}, ${escapeHtml(result.reason)}.`, {
      parse_mode: "HTML",
    });
  }

  const feature = new Composer<Ctx>();
  feature.use(createConversation(reason, "trust-reason"));
  feature.use(mainMenu);
  feature.command("trust", async (ctx) => {
    await ctx.reply(await overview(ctx), { parse_mode: "HTML", reply_markup: mainMenu });
  });
  feature.command("lockdown", async (ctx) => {
    const approver = await asApprover(deps, ctx.from, { target: "lockdown", tell: () => ctx.reply("Only approvers can lock down or lift a lockdown.") });
    if (!approver) return;
    const off = ctx.match.trim().toLowerCase() === "off";
    const result = await lockdown(sql, !off, approver);
    await ctx.reply(
      off
        ? "🔓 Lockdown lifted. Levels stay where they are (manual); runbooks earn their way up again from their record."
        : `🔒 Lockdown: ${plural(result.demoted.length, "runbook")} back to manual (${result.demoted.map((d) => d.runbookId).join(", ") || "none were above manual"}). Nothing runs on its own and nothing is promoted until /lockdown off.`,
    );
  });
  return feature;
}
