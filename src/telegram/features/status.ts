import { Composer } from "grammy";
import type { Sql } from "../../db/client.ts";
import { postNotice } from "../outbox/cards.ts";
import { plural } from "../../util/plural.ts";
import { bold, escapeHtml } from "../render/html.ts";
import { replyTarget } from "./reply.ts";

/** /status — what is firing right now, per topic, most frequent alert names first. */
export function statusFeature(deps: { sql: Sql; chatId: number }) {
  const feature = new Composer();
  feature.command("status", async (ctx) => {
    const text = await renderStatus(deps.sql, deps.chatId);
    await postNotice(deps.sql, { chatId: deps.chatId, ...replyTarget(ctx), text });
  });
  return feature;
}

export async function renderStatus(sql: Sql, chatId: number): Promise<string> {
  const rows = await sql<{ topic: string | null; name: string | null; alertname: string; alerts: number }[]>`
    select c.topic_key as topic, t.name, a.alertname, count(*)::int as alerts
    from alerts a
    join cards c on c.group_id = a.group_id and c.episode = a.episode and c.chat_id = ${chatId}
    left join topics t on t.chat_id = c.chat_id and t.key = c.topic_key
    where a.status = 'firing'
    group by c.topic_key, t.name, a.alertname
    order by c.topic_key, alerts desc, a.alertname`;
  if (rows.length === 0) return "✅ Nothing is firing.";
  const total = rows.reduce((n, r) => n + r.alerts, 0);
  const lines = [`🔥 ${bold(`${plural(total, "alert")} firing`)}`];
  let topic: string | null | undefined;
  let shown = 0;
  for (const r of rows) {
    if (r.topic !== topic) {
      topic = r.topic;
      lines.push("", bold(r.name ?? r.topic ?? "—"));
    }
    if (shown++ >= 40) {
      lines.push("…");
      break;
    }
    lines.push(`• ${escapeHtml(r.alertname)} ×${r.alerts}`);
  }
  return lines.join("\n");
}
