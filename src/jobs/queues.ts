import { Queue, type ConnectionOptions } from "bullmq";

export const SIGNALS_QUEUE = "signals";
export const EXECUTIONS_QUEUE = "executions";

export interface ExecuteJob {
  executionId: number;
}

export interface ProcessGroupJob {
  groupId: number;
  /** Render the current card again although nothing new was stored (e.g. its runbook suggestions can now be shown). */
  refresh?: boolean;
}

export interface Queues {
  signals: Queue<ProcessGroupJob>;
  executions: Queue<ExecuteJob>;
  all(): Queue[];
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const signals = new Queue<ProcessGroupJob>(SIGNALS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 8,
      backoff: { type: "exponential", delay: 1000 },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
  // Runs are never retried by BullMQ: a run that died half-way must not run its steps again
  // (exactly once per approval); the processor marks it interrupted instead.
  const executions = new Queue<ExecuteJob>(EXECUTIONS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { attempts: 1, removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 30 * 24 * 3600 } },
  });
  return {
    signals,
    executions,
    all: () => [signals, executions],
    close: async () => {
      await Promise.all([signals.close(), executions.close()]);
    },
  };
}

/**
 * One job per (group, version): a newer version never waits behind an older job that is already
 * running, and the same version enqueued twice (web + sweeper) runs once.
 */
export function processGroupJobId(groupId: number, version: number): string {
  return `g-${groupId}-v${version}`;
}

export async function enqueueGroups(queues: Queues, groups: readonly { id: number; version: number }[]): Promise<void> {
  if (groups.length === 0) return;
  await queues.signals.addBulk(
    groups.map((g) => ({ name: "process-group", data: { groupId: g.id }, opts: { jobId: processGroupJobId(g.id, g.version) } })),
  );
}

/** Re-renders the current card of each group; one job per group and reason, however often asked. */
export async function enqueueRefresh(queues: Queues, groupIds: readonly number[], reason: string): Promise<void> {
  if (groupIds.length === 0) return;
  await queues.signals.addBulk(
    groupIds.map((id) => ({ name: "process-group", data: { groupId: id, refresh: true }, opts: { jobId: `g-${id}-refresh-${reason}` } })),
  );
}

export function executionJobId(executionId: number): string {
  return `exec-${executionId}`;
}

/** One job per execution row: the id is the execution's, so enqueueing it twice runs it once. */
export async function enqueueExecutions(queues: Queues, executionIds: readonly number[]): Promise<void> {
  if (executionIds.length === 0) return;
  await queues.executions.addBulk(executionIds.map((id) => ({ name: "execute", data: { executionId: id }, opts: { jobId: executionJobId(id) } })));
}

/**
 * Adding a job under the id of a finished one does nothing, so work the database still calls
 * undone would never run again. Such a job failed for good, or it belongs to a database this Redis
 * served before (a restore, a re-created database reusing ids): it is removed, and the id is free.
 * A job that finished a moment ago and is removed needlessly runs again and finds nothing to do.
 */
export async function clearFinishedJobs(queue: Queue, jobIds: readonly string[]): Promise<number> {
  let cleared = 0;
  for (const id of jobIds) {
    const state = await queue.getJobState(id);
    if (state === "completed" || state === "failed") cleared += await queue.remove(id);
  }
  return cleared;
}
