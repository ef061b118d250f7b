import type { TransactionSql } from "postgres";
import type { Logger } from "../logger.ts";
import type { LastTime } from "../runbooks/history.ts";
import type { RunbookMatch } from "../runbooks/match.ts";
import { shortDate, type RunbookService } from "../runbooks/service.ts";
import { leadAlert, type CardAlert, type CardSection } from "../telegram/render/alert-card.ts";
import { renderRunbooksSection } from "../telegram/render/runbooks-section.ts";

interface Found {
  matches: RunbookMatch[];
  lastTime: LastTime | undefined;
}

/**
 * The runbook suggestions on a firing card. The search runs once per card (and again only when the
 * library changes); levels and track records are read fresh on every render. If search is down,
 * the card still goes out, saying so: runbooks must never hold up an alert.
 */
export function runbookSections(deps: { runbooks: () => RunbookService | undefined; logger: Logger }) {
  return async (input: { tx: TransactionSql; groupId: number; episode: number; alerts: readonly CardAlert[] }): Promise<CardSection[]> => {
    const lead = leadAlert(input.alerts.filter((a) => a.status === "firing"));
    if (!lead) return [];
    const runbooks = deps.runbooks();
    if (!runbooks) return [{ html: "📚 Runbook search is starting; suggestions follow." }];
    try {
      // A savepoint: a failure here must not poison the transaction the card is written in.
      return await input.tx.savepoint(async (tx) => {
        const version = runbooks.version();
        const [cached] = await tx<{ matches: Found[] }[]>`
          select matches from card_matches where group_id = ${input.groupId} and episode = ${input.episode} and library_version = ${version}`;
        let found = revive(cached?.matches[0]);
        if (!found) {
          found = await runbooks.search({ alertname: lead.alertname, labels: lead.labels, annotations: lead.annotations });
          await tx`
            insert into card_matches (group_id, episode, library_version, matches)
            values (${input.groupId}, ${input.episode}, ${version}, ${tx.json([found] as never)})
            on conflict (group_id, episode) do update set library_version = excluded.library_version, matches = excluded.matches, created_at = now()`;
        }
        return [renderRunbooksSection(await runbooks.decorate(found, tx), shortDate)];
      });
    } catch (error) {
      deps.logger.warn({ err: error, groupId: input.groupId }, "runbook search failed; card goes out without suggestions");
      return [{ html: "📚 Runbook search is unavailable right now." }];
    }
  };
}

function revive(found: Found | undefined): Found | undefined {
  if (!found) return undefined;
  return { matches: found.matches, lastTime: found.lastTime ? { ...found.lastTime, at: new Date(found.lastTime.at) } : undefined };
}
