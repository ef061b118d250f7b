import type { TransactionSql } from "postgres";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { DecideInput, DecideResult } from "../decisions/card.ts";
import type { Logger } from "../logger.ts";
import type { LastTime } from "../runbooks/history.ts";
import type { RunbookMatch } from "../runbooks/match.ts";
import { shortDate, type RunbookService } from "../runbooks/service.ts";
import type { CardAlert, CardSection } from "../telegram/render/alert-card.ts";
import { renderRunbooksSection } from "../telegram/render/runbooks-section.ts";

interface Found {
  matches: RunbookMatch[];
  lastTime: LastTime | undefined;
}

export interface CardExtrasInput {
  tx: TransactionSql;
  chatId: number;
  groupId: number;
  episode: number;
  alerts: readonly CardAlert[];
  /** The card's lead alert (leadAlert of `alerts`), as the group processor already picked it. */
  lead: CardAlert;
  cardCreatedAt: Date;
}

export interface CardExtras {
  sections: CardSection[];
  replyMarkup: InlineKeyboardMarkup | undefined;
  executions: number[];
}

/**
 * What a card shows beyond its alerts: the runbooks most like it (searched once per card, and
 * again only when the library changes; levels and records read fresh), then the proposal and the
 * buttons the runbook's level calls for. If search is down the card still goes out, saying so:
 * runbooks must never hold up an alert.
 */
export function createCardExtras(deps: {
  runbooks: () => RunbookService | undefined;
  decide?: (input: DecideInput) => Promise<DecideResult>;
  logger: Logger;
}) {
  return async (input: CardExtrasInput): Promise<CardExtras> => {
    // Firing alerts sort first, so the lead is firing whenever any alert is: suggestions are for those.
    const lead = input.lead.status === "firing" ? input.lead : undefined;
    const sections: CardSection[] = [];
    let found: Found | undefined;
    if (lead) {
      const runbooks = deps.runbooks();
      if (!runbooks) {
        sections.push({ html: "📚 Runbook search is starting; suggestions follow." });
      } else {
        try {
          // A savepoint: a failure here must not poison the transaction the card is written in.
          const result = await input.tx.savepoint(async (tx) => {
            const version = runbooks.version();
            const [cached] = await tx<{ matches: Found[] }[]>`
              select matches from card_matches where group_id = ${input.groupId} and episode = ${input.episode} and library_version = ${version}`;
            let hit = revive(cached?.matches[0]);
            if (!hit) {
              hit = await runbooks.search({ alertname: lead.alertname, labels: lead.labels, annotations: lead.annotations });
              await tx`
                insert into card_matches (group_id, episode, library_version, matches)
                values (${input.groupId}, ${input.episode}, ${version}, ${tx.json([hit] as never)})
                on conflict (group_id, episode) do update set library_version = excluded.library_version, matches = excluded.matches, created_at = now()`;
            }
            return { hit, section: renderRunbooksSection(await runbooks.decorate(hit, tx), shortDate) };
          });
          found = result.hit;
          sections.push(result.section);
        } catch (error) {
          deps.logger.warn({ err: error, groupId: input.groupId }, "runbook search failed; card goes out without suggestions");
          sections.push({ html: "📚 Runbook search is unavailable right now." });
        }
      }
    }
    if (!deps.decide) return { sections, replyMarkup: undefined, executions: [] };
    const decision = await deps.decide({ ...input, matches: found?.matches });
    return { sections: [...sections, ...decision.sections], replyMarkup: decision.replyMarkup, executions: decision.executions };
  };
}

function revive(found: Found | undefined): Found | undefined {
  if (!found) return undefined;
  return { matches: found.matches, lastTime: found.lastTime ? { ...found.lastTime, at: new Date(found.lastTime.at) } : undefined };
}
