import type { Sql } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { leadAlert, mostSevere, renderAlertCard, type CardAlert } from "../telegram/render/alert-card.ts";
import type { CardExtras, CardExtrasInput } from "./card-extras.ts";
import { writeAlertCard } from "../telegram/outbox/cards.ts";

export interface RouteInput {
  source: string;
  kind: string;
  severity: string | null;
  labels: Record<string, string>;
}

export interface GroupProcessorDeps {
  sql: Sql;
  chatId: number;
  /** Which topic a new card goes to; existing cards stay where they are. */
  route: (signal: RouteInput) => { key: string; rule: string };
  logger: Logger;
  /**
   * What a card shows beyond its alerts (runbook suggestions, the proposal and its buttons). Runs
   * inside the group's transaction and must write through `tx`, which holds the group's lock.
   */
  extras?: (input: CardExtrasInput) => Promise<CardExtras>;
}

interface GroupRow {
  id: number;
  source: string;
  episode: number;
  version: number;
  processed_version: number;
  group_labels: Record<string, string>;
  common_labels: Record<string, string>;
  common_annotations: Record<string, string>;
  external_url: string | null;
  truncated_alerts: number;
}

interface AlertRow {
  fingerprint: string;
  alertname: string;
  severity: string | null;
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: Date;
  ends_at: Date | null;
  generator_url: string | null;
}

/**
 * Brings the cards of one alert group up to the group's stored version: routes new episodes to a
 * topic, renders, and writes the cards (which queues what Telegram must be told). Runs under the
 * group's row lock, so jobs for the same group never interleave, and an old job finding the work
 * already done returns at once.
 */
export function createGroupProcessor(deps: GroupProcessorDeps) {
  const { sql, chatId, logger } = deps;
  /** `refresh`: render the current episode again even if nothing was stored since (its suggestions changed). */
  return async function processGroup(
    groupId: number,
    options: { refresh?: boolean } = {},
  ): Promise<{ cards: number; skipped: boolean; executions: number[] }> {
    return sql.begin(async (tx) => {
      const [g] = await tx<GroupRow[]>`select * from alert_groups where id = ${groupId} for no key update`;
      if (!g || (g.processed_version >= g.version && !options.refresh)) return { cards: 0, skipped: true, executions: [] };
      const executions: number[] = [];
      const touched = await tx<{ episode: number }[]>`
        select distinct episode from alerts where group_id = ${groupId} and changed_version > ${g.processed_version}`;
      // Group-level fields (common annotations, truncation) show on the current episode's card too.
      const episodes = [...new Set([...touched.map((r) => r.episode), g.episode])].sort((a, b) => a - b);
      let written = 0;
      for (const episode of episodes) {
        const rows = await tx<AlertRow[]>`
          select fingerprint, alertname, severity, status, labels, annotations, starts_at, ends_at, generator_url
          from alerts where group_id = ${groupId} and episode = ${episode} order by id`;
        if (rows.length === 0) continue;
        const alerts: CardAlert[] = rows.map((r) => ({
          fingerprint: r.fingerprint,
          alertname: r.alertname,
          severity: r.severity,
          status: r.status,
          labels: r.labels,
          annotations: r.annotations,
          startsAt: r.starts_at,
          endsAt: r.ends_at,
          generatorUrl: r.generator_url,
        }));
        const lead = leadAlert(alerts)!;
        const route = deps.route({ source: g.source, kind: "alert", severity: mostSevere(alerts), labels: lead.labels });
        const [existing] = await tx<{ created_at: Date }[]>`select created_at from cards where group_id = ${groupId} and episode = ${episode}`;
        const extras = deps.extras
          ? await deps.extras({ tx, chatId, groupId, episode, alerts, lead, cardCreatedAt: existing?.created_at ?? new Date() })
          : { sections: [], replyMarkup: undefined, executions: [] };
        executions.push(...extras.executions);
        const rendered = renderAlertCard(
          {
            groupLabels: g.group_labels,
            commonLabels: g.common_labels,
            commonAnnotations: g.common_annotations,
            externalUrl: g.external_url,
            truncatedAlerts: episode === g.episode ? g.truncated_alerts : 0,
          },
          alerts,
          extras.sections,
        );
        const result = await writeAlertCard(tx, {
          chatId,
          groupId,
          episode,
          topicKey: route.key,
          status: rendered.status === "resolved" ? "final" : "open",
          severity: rendered.severity,
          summary: rendered.summary,
          text: rendered.text,
          ...(extras.replyMarkup ? { replyMarkup: extras.replyMarkup } : {}),
        });
        if (result.changed) {
          written++;
          logger.debug({ groupId, episode, topic: route.key, rule: route.rule, cardId: result.cardId }, "card updated");
        }
      }
      await tx`update alert_groups set processed_version = ${g.version} where id = ${groupId}`;
      return { cards: written, skipped: false, executions };
    });
  };
}

export type GroupProcessor = ReturnType<typeof createGroupProcessor>;
