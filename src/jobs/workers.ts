import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from "bullmq";
import type { Sql } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { GroupProcessor } from "./process-group.ts";
import type { RunbookService } from "../runbooks/service.ts";
import {
  EXECUTIONS_QUEUE,
  SIGNALS_QUEUE,
  enqueueExecutions,
  enqueueGroups,
  enqueueRefresh,
  clearFinishedJobs,
  executionJobId,
  processGroupJobId,
  type ExecuteJob,
  type ProcessGroupJob,
  type Queues,
} from "./queues.ts";

export interface WorkersDeps {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  sql: Sql;
  queues: Queues;
  processGroup: GroupProcessor;
  /** Runs a queued execution (omitted: this process runs none). */
  execute?: (executionId: number) => Promise<{ status: string }>;
  /** Runbook runs at once per process: they wait on other systems, not on this CPU. */
  executionConcurrency?: number;
  /** For indexing decisions made where search does not run (the web process). */
  runbooks?: () => RunbookService | undefined;
  logger: Logger;
  /** How often stored-but-unprocessed groups are looked for (what a lost enqueue leaves behind). */
  sweepEveryMs?: number;
  /**
   * Whether runbook search is up: then open cards that went out without suggestions (search was
   * starting or down) are rendered again, so every firing card ends up with honest suggestions.
   */
  canSuggest?: () => boolean;
  /** Raw deliveries older than this many days are pruned by the sweep. */
  deliveryRetentionDays?: number;
}

export interface Workers {
  start(): Promise<void>;
  close(): Promise<void>;
  /** Enqueues every group whose cards are behind its stored version. */
  sweep(): Promise<number>;
}

/**
 * Postgres is the record and BullMQ moves the work. A webhook is acknowledged once stored; if the
 * enqueue after that is lost (Redis down, process killed), the periodic sweep finds the group by
 * its version numbers and enqueues it again.
 */
export function createWorkers(deps: WorkersDeps): Workers {
  const { logger } = deps;
  let worker: Worker | undefined;
  let executions: Worker | undefined;

  async function sweep(): Promise<number> {
    const behind = await deps.sql<{ id: number; version: number; waiting: boolean }[]>`
      select id, version, updated_at < now() - interval '30 seconds' as waiting
      from alert_groups where processed_version < version order by id limit 5000`;
    // Only groups behind for a while can be blocked by a finished job; the rest are still in the queue.
    await clearFinishedJobs(deps.queues.signals, behind.filter((g) => g.waiting).map((g) => processGroupJobId(g.id, g.version)));
    await enqueueGroups(deps.queues, behind);
    if (behind.length > 0) logger.info({ groups: behind.length }, "sweep re-enqueued groups behind their stored version");
    if (deps.canSuggest?.()) {
      const missing = await deps.sql<{ group_id: number; episode: number }[]>`
        select c.group_id, c.episode from cards c join alert_groups g on g.id = c.group_id and g.episode = c.episode
        where c.kind = 'alert' and c.status = 'open'
          and not exists (select 1 from card_matches m where m.group_id = c.group_id and m.episode = c.episode)
        order by c.group_id limit 500`;
      // The reason carries the sweep's minute: a card whose search failed is tried again next time.
      await enqueueRefresh(deps.queues, missing.map((m) => m.group_id), `suggest-${Math.floor(Date.now() / 60_000)}`);
    }
    // Runs stored as queued whose enqueue was lost (Redis down, process killed after the commit).
    const queued = await deps.sql<{ id: number }[]>`
      select id from executions where status = 'queued' and queued_at < now() - interval '30 seconds' order by id limit 500`;
    // A job that ended without claiming its run (the database was down, say): the row says the run never started.
    await clearFinishedJobs(deps.queues.executions, queued.map((q) => executionJobId(q.id)));
    await enqueueExecutions(deps.queues, queued.map((q) => q.id));
    // Decisions made in the web process (ignore, silence …) become searchable here, and so do the
    // outcomes runs record when they end.
    await deps.runbooks?.()?.indexPendingDecisions();
    // Every delivery is kept for audit and replay, but not forever (an Alertmanager re-sends each
    // firing group every repeat_interval). Batches keep each delete short.
    await deps.sql`
      delete from deliveries where id in (
        select id from deliveries where received_at < now() - ${deps.deliveryRetentionDays ?? 30} * interval '1 day' limit 10000)`;
    // Telegram gives up redelivering an update within a day; the ids only need to outlive that.
    await deps.sql`delete from telegram_updates where created_at < now() - interval '7 days'`;
    return behind.length;
  }

  async function processor(job: Job<ProcessGroupJob>): Promise<unknown> {
    const log = logger.child({ job: job.id, name: job.name });
    switch (job.name) {
      case "process-group": {
        const result = await deps.processGroup(job.data.groupId, { refresh: job.data.refresh === true });
        // After the commit: a run queued by the card (a standard runbook) starts now.
        await enqueueExecutions(deps.queues, result.executions);
        log.debug({ ...result, groupId: job.data.groupId }, "processed group");
        return result;
      }
      case "sweep":
        return { enqueued: await sweep() };
      default:
        throw new UnrecoverableError(`unknown job ${job.name}`);
    }
  }

  return {
    sweep,
    async start() {
      worker = new Worker(SIGNALS_QUEUE, processor, {
        connection: deps.connection,
        prefix: deps.prefix,
        concurrency: deps.concurrency,
      });
      worker.on("failed", (job, error) => {
        logger.warn({ job: job?.id, attempts: job?.attemptsMade, err: error }, "job failed");
      });
      worker.on("error", (error) => logger.error({ err: error }, "worker error"));
      if (deps.execute) {
        const execute = deps.execute;
        executions = new Worker<ExecuteJob>(
          EXECUTIONS_QUEUE,
          async (job) => execute(job.data.executionId),
          // Long runs (a rollout status can take minutes) must not look stalled to BullMQ.
          { connection: deps.connection, prefix: deps.prefix, concurrency: deps.executionConcurrency ?? 4, lockDuration: 60_000 },
        );
        executions.on("failed", (job, error) => logger.error({ job: job?.id, err: error }, "run job failed"));
        executions.on("error", (error) => logger.error({ err: error }, "executions worker error"));
      }
      await deps.queues.signals.upsertJobScheduler("sweep", { every: deps.sweepEveryMs ?? 30_000 }, { name: "sweep", data: { groupId: 0 } });
      await sweep();
    },
    async close() {
      await Promise.all([worker?.close(), executions?.close()]);
    },
  };
}
