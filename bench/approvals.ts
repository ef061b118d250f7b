/**
 * Approvals through the Telegram webhook: how many Approve presses per second `topicops serve` takes,
 * how long the webhook call takes, and how long from the press until the run's job starts, next to
 * the same decisions written straight into Postgres with the same concurrency.
 *
 * One cheap local runbook (`node -e ""`), set to `prompted` by hand before the cards are made, so
 * one tap approves and queues the run. Cards come from a small storm of one-alert groups; the
 * presses are callback_query updates POSTed to /telegram as Telegram would deliver them. Telegram's
 * own limit (20 calls/min to the chat) stays on in the fake, but it does not touch the path measured
 * here: answerCallbackQuery has no chat_id, so neither Telegram nor the service's limiter counts it;
 * the card edits and run notices that follow each press are, and they queue in the outbox.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import type { Update } from "grammy/types";
import { setLevelByHand } from "../src/trust/service.ts";
import { anna, bob } from "../test/helpers/approvals.ts";
import { alertmanagerPayload, groupKeyOf, workloadAlert } from "./lib/alertmanager.ts";
import { buttonData, postTelegramUpdate, serviceButtonCodec } from "./lib/buttons.ts";
import { benchPrefix, checkoutLine, createBenchDatabase, environment, type BenchDatabase } from "./lib/infra.ts";
import { runCountedLoad } from "./lib/load.ts";
import { commandCpuMeter, cpuMeter, logSummaryLine, type CpuUse, type MemoryStatus } from "./lib/process.ts";
import type { Scope } from "./lib/scope.ts";
import { createScope, interrupted } from "./lib/scope.ts";
import { BENCH_HOOK_TOKEN, serviceRoot, startBenchTelegram, startServiceProcess } from "./lib/service.ts";
import { ratio, round1, round2, slidingWindowMax, summarize, type LatencySummary } from "./lib/stats.ts";
import { table } from "./lib/table.ts";
import type { BenchCheck, BenchResult } from "./lib/types.ts";

const CARDS = Number(process.env.BENCH_APPROVALS_CARDS ?? 500);
const CONCURRENCY = Number(process.env.BENCH_APPROVALS_CONCURRENCY ?? 16);
/** Presses one at a time, each after the previous run has finished: the latency with nothing queued. */
const SINGLE = Number(process.env.BENCH_APPROVALS_SINGLE ?? 20);
const SINGLE_PAUSE_MS = 250;
/**
 * Presses before anything is measured, all at once: the first update makes grammY call getMe, and
 * CONCURRENCY presses in flight open the service's Postgres connections the burst will use.
 */
const WARMUP = CONCURRENCY;
/** Burst cards pressed again afterwards (a second approver, a redelivered update): must change nothing. */
const DUPLICATES = Math.min(50, CARDS);
const SETTLE_MS = Number(process.env.BENCH_APPROVALS_SETTLE_SECONDS ?? 600) * 1000;
const PREPARE_TIMEOUT_MS = 5 * 60_000;
const DELIVERY_CONCURRENCY = 8;
const TELEGRAM_PER_MINUTE = 20;
const RUNBOOK_ID = "bench-noop";
const ALERTNAME = "BenchApprovalNeeded";
/** A critical alert sent after the burst, to see where a new card stands in the outbox. */
const PROBE_ALERTNAME = "BenchProbeCritical";
/** Telegram sends it back on every webhook update; any 1-256 of [A-Za-z0-9_-] do. */
const WEBHOOK_SECRET = "bench-webhook-secret_0123456789";
const TERMINAL = ["succeeded", "failed", "cancelled", "interrupted", "refused"];

function writeRunbook(scope: Scope): string {
  const dir = mkdtempSync(join(tmpdir(), "topicops-bench-runbooks-"));
  scope.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  // One step that starts a process and does nothing: the run is real (allowlist, spawn, progress
  // notice, outcome, trust evaluation) but costs as little as a run can, and touches no network.
  writeFileSync(
    join(dir, `${RUNBOOK_ID}.md`),
    `---
id: ${RUNBOOK_ID}
title: Bench no-op
risk: low
match:
  alerts: [${ALERTNAME}]
steps:
  - name: Start node and exit
    run: [${JSON.stringify(process.execPath)}, "-e", ""]
    timeout: 30s
---
# Bench no-op

Starts node, which exits at once. For \`npm run bench -- approvals\`.
`,
  );
  return dir;
}

/** One topic, so the storm creates one forum topic instead of eight and every card lands in it. */
function writeTopics(scope: Scope): string {
  const dir = mkdtempSync(join(tmpdir(), "topicops-bench-topics-"));
  scope.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "inbox.yaml"), `name: "Inbox"\ndefault: true\ndescription: Every bench alert.\n`);
  return dir;
}

/** Group `i`: one alert in a group of its own (its own namespace, so its own groupKey and card). */
function alertBody(i: number, salt: number, startsAt: string): string {
  const namespace = `bench-approvals-${i}`;
  const groupLabels = { alertname: ALERTNAME, namespace };
  const alert = workloadAlert({ n: i, salt, alertname: ALERTNAME, namespace, severity: "warning", startsAt });
  return JSON.stringify(alertmanagerPayload({ receiver: "telegram-chatops", groupKey: groupKeyOf(groupLabels), groupLabels, alerts: [alert] }));
}

function probeBody(salt: number): string {
  const groupLabels = { alertname: PROBE_ALERTNAME, namespace: "bench-probe" };
  const alert = workloadAlert({ n: 1_000_000, salt, alertname: PROBE_ALERTNAME, namespace: "bench-probe", severity: "critical", startsAt: new Date().toISOString() });
  return JSON.stringify(alertmanagerPayload({ receiver: "telegram-chatops", groupKey: groupKeyOf(groupLabels), groupLabels, alerts: [alert] }));
}

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (interrupted.aborted) throw new Error("interrupted");
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A card to press: its proposal, the button's data, and the Telegram message the button would be on. */
interface Target {
  proposalId: number;
  data: string;
  /** The card's own message, else its rollup's; 0 when neither is on Telegram yet. */
  messageId: number;
  shownOn: "own message" | "rollup message" | "none";
}

interface Press {
  proposalId: number;
  update: Update;
  callbackId: string;
  /** Date.now() just before the POST: compared with Postgres timestamps (same machine, same clock). */
  sentAt: number;
  ms: number;
  status: number;
  error?: string;
}

interface RunTimes {
  proposal_id: number;
  status: string;
  queued_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
}

/** What happened to one set of presses, from the client, Telegram's and Postgres's points of view. */
interface Timings {
  http: LatencySummary;
  toAnswer: LatencySummary;
  /** The press until the decision's transaction began (executions.queued_at is its now()). */
  toDecision: LatencySummary;
  toStart: LatencySummary;
  queuedToStarted: LatencySummary;
  run: LatencySummary;
}

function timings(presses: readonly Press[], answers: ReadonlyMap<string, { at: number }>, runs: ReadonlyMap<number, RunTimes>): Timings {
  const pick = (f: (p: Press, r: RunTimes | undefined) => number | null | undefined) =>
    summarize(presses.map((p) => f(p, runs.get(p.proposalId))).filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
  return {
    http: pick((p) => p.ms),
    toAnswer: pick((p) => {
      const a = answers.get(p.callbackId);
      return a ? a.at - p.sentAt : undefined;
    }),
    toDecision: pick((p, r) => (r ? r.queued_ms - p.sentAt : undefined)),
    toStart: pick((p, r) => (r?.started_ms != null ? r.started_ms - p.sentAt : undefined)),
    queuedToStarted: pick((_, r) => (r?.started_ms != null ? r.started_ms - r.queued_ms : undefined)),
    run: pick((_, r) => (r?.started_ms != null && r.finished_ms != null ? r.finished_ms - r.started_ms : undefined)),
  };
}

/** Postgres's clock against this process's, read a few times; the tightest round trip bounds the error. */
async function clockOffset(db: BenchDatabase): Promise<{ offsetMs: number; roundTripMs: number }> {
  let best = { offsetMs: Number.NaN, roundTripMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 7; i++) {
    const t0 = Date.now();
    const [row] = await db.sql<{ ms: number }[]>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`;
    const t1 = Date.now();
    if (t1 - t0 < best.roundTripMs) best = { offsetMs: round2(row!.ms - (t0 + t1) / 2), roundTripMs: t1 - t0 };
  }
  return best;
}

const TABLES = ["telegram_updates", "conversation_state", "proposals", "decisions", "executions", "alerts", "cards", "outbox"];

/** Per-table activity counters, to see which statements a phase caused (Postgres keeps them per database). */
async function tableStats(db: BenchDatabase): Promise<Record<string, Record<string, number>>> {
  const rows = await db.sql<{ relname: string; seq_scan: number; idx_scan: number; n_tup_ins: number; n_tup_upd: number; n_tup_del: number }[]>`
    select relname, seq_scan::int, coalesce(idx_scan, 0)::int as idx_scan, n_tup_ins::int, n_tup_upd::int, n_tup_del::int
    from pg_stat_user_tables where relname in ${db.sql(TABLES)}`;
  return Object.fromEntries(rows.map(({ relname, ...counts }) => [relname, counts]));
}

function statsDelta(a: Record<string, Record<string, number>>, b: Record<string, Record<string, number>>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [table, counts] of Object.entries(b)) {
    out[table] = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v - (a[table]?.[k] ?? 0)]));
  }
  return out;
}

interface ActivitySummary {
  samples: number;
  /** The service's connections (its pool of WORKER_CONCURRENCY + 10, plus drizzle's), per sample. */
  connections: { mean: number; max: number };
  active: { mean: number; max: number };
  idleInTransaction: { mean: number; max: number };
  /** Waiting for a row or table lock another transaction holds. */
  waitingOnLock: { mean: number; max: number };
  /** What the lock waiters were running and what the session holding the lock ran last, most often seen first. */
  lockWaits: { query: string; seen: number }[];
  /** The last statement of sessions idle in a transaction: a transaction holding a connection while the process does other work. */
  idleInTransactionAfter: { query: string; seen: number }[];
}

/**
 * Samples the service's Postgres sessions until stopped: how many it has, how many are busy or
 * wait on a lock, and on which statements. Shows whether presses wait for connections or locks.
 */
function sampleActivity(db: BenchDatabase, everyMs: number): () => Promise<ActivitySummary> {
  const samples: { connections: number; active: number; idleInTransaction: number; waiting: number }[] = [];
  const waits = new Map<string, number>();
  const idle = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped && !interrupted.aborted) {
      const rows = await db.sql<{ state: string | null; wait_event_type: string | null; query: string; blocker: string | null }[]>`
        select a.state, a.wait_event_type, left(regexp_replace(a.query, '[[:space:]]+', ' ', 'g'), 150) as query,
               (select left(regexp_replace(b.query, '[[:space:]]+', ' ', 'g'), 150) from pg_stat_activity b
                where b.pid = (pg_blocking_pids(a.pid))[1]) as blocker
        from pg_stat_activity a
        where a.datname = ${db.name} and a.application_name like 'topicops%' and a.application_name not like 'topicops-bench%'`;
      samples.push({
        connections: rows.length,
        active: rows.filter((r) => r.state === "active").length,
        idleInTransaction: rows.filter((r) => r.state === "idle in transaction").length,
        waiting: rows.filter((r) => r.wait_event_type === "Lock").length,
      });
      for (const r of rows) {
        if (r.state === "idle in transaction") idle.set(r.query.trim(), (idle.get(r.query.trim()) ?? 0) + 1);
        if (r.wait_event_type !== "Lock") continue;
        const key = `${r.query.trim()}  <-- held by: ${r.blocker?.trim() ?? "?"}`;
        waits.set(key, (waits.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    const stat = (f: (x: (typeof samples)[number]) => number) => ({
      mean: round1(samples.reduce((a, x) => a + f(x), 0) / Math.max(1, samples.length)),
      max: Math.max(0, ...samples.map(f)),
    });
    return {
      samples: samples.length,
      connections: stat((x) => x.connections),
      active: stat((x) => x.active),
      idleInTransaction: stat((x) => x.idleInTransaction),
      waitingOnLock: stat((x) => x.waiting),
      lockWaits: [...waits.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([query, seen]) => ({ query, seen })),
      idleInTransactionAfter: [...idle.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([query, seen]) => ({ query, seen })),
    };
  };
}

function activityLine(a: ActivitySummary): string {
  return `${a.connections.mean} connections (max ${a.connections.max}), ${a.active.mean} active (max ${a.active.max}), ${a.waitingOnLock.mean} waiting on a lock (max ${a.waitingOnLock.max}), ${a.idleInTransaction.mean} idle in a transaction`;
}

export async function run(): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const scope = createScope();
  try {
    // One connection per concurrent client for the direct baseline (the service's own pool is
    // WORKER_CONCURRENCY + 10 = 18, shared with its workers).
    const db = await createBenchDatabase(scope, { max: CONCURRENCY });
    const prefix = benchPrefix(scope);
    const fake = await startBenchTelegram(scope, { rateLimit: { perMinute: TELEGRAM_PER_MINUTE } });
    const env = await environment(db, serviceRoot);
    const codec = serviceButtonCodec(fake.token);
    const total = WARMUP + SINGLE + CARDS;
    const salt = randomInt(0, 2 ** 31);

    log(`service: topicops serve in webhook mode; ${total} cards (${WARMUP} warm-up, ${SINGLE} one at a time, ${CARDS} in the burst with ${CONCURRENCY} clients)`);
    const service = await startServiceProcess({
      scope,
      command: "serve",
      databaseUrl: db.url,
      prefix,
      fake,
      env: {
        PUBLIC_URL: "https://topicops-bench.example.net",
        TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
        APPROVER_IDS: `${anna.id},${bob.id}`,
        RUNBOOKS_DIR: writeRunbook(scope),
        TOPICS_DIR: writeTopics(scope),
        EXEC_ALLOWLIST: process.execPath,
      },
    });
    const readyMemory = service.memory();
    let serviceExit: number | string | undefined;
    void service.exited.then((code) => {
      serviceExit = code;
    });
    const alive = () => {
      if (serviceExit !== undefined) throw new Error(`the service exited (${serviceExit}):\n${service.tail()}`);
    };

    // 1. The runbook at prompted before any card exists (a proposal keeps the level it was made at),
    // set the way /trust sets it: pinned, so 500 clean runs do not promote it to standard mid-run.
    const startLevel = await waitUntil(
      "the service to load the runbook",
      async () => (await db.sql<{ level: string }[]>`select level from runbooks where id = ${RUNBOOK_ID}`)[0]?.level,
      60_000,
    );
    const set = await setLevelByHand(db.sql, { runbookId: RUNBOOK_ID, to: "prompted", reason: "bench: one tap runs it", actorId: anna.id, actorName: "bench", risk: "low" });
    if ("refused" in set) throw new Error(`could not set ${RUNBOOK_ID} to prompted: ${set.refused}`);

    // 2. The cards: one alert group each. The first alone, so it goes out as a message of its own
    // with its buttons (to check the benchmark's button data against); then the rest, a few at a time.
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const deliveryStatuses: Record<string, number> = {};
    const deliver = async (body: string) => {
      const response = await fetch(`${service.url}/hooks/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${BENCH_HOOK_TOKEN}`, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer();
      deliveryStatuses[response.status] = (deliveryStatuses[response.status] ?? 0) + 1;
      if (response.status !== 200) throw new Error(`alert delivery: HTTP ${response.status}`);
    };
    await deliver(alertBody(0, salt, startsAt));
    await waitUntil(
      "the first card on Telegram with its buttons",
      async () => (fake.messages().some((m) => JSON.stringify(m.replyMarkup ?? {}).includes('"ap:')) ? true : undefined),
      60_000,
    ).catch(() => undefined);
    const prepareStart = Date.now();
    const deliveries = await runCountedLoad({ workers: DELIVERY_CONCURRENCY, count: total - 1, task: (i) => deliver(alertBody(i + 1, salt, startsAt)) });
    if (deliveries.failed > 0) throw new Error(`${deliveries.failed} alert deliveries failed (${deliveries.firstError})`);
    await waitUntil(
      `${total} open proposals`,
      async () => {
        alive();
        const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from proposals where runbook_id = ${RUNBOOK_ID} and status = 'open'`;
        return row!.n >= total ? row!.n : undefined;
      },
      PREPARE_TIMEOUT_MS,
    );
    const proposalsAt = Date.now();
    // Each card on Telegram, as its own message or inside a rollup: where a person would be looking.
    const cardsShownAt = await waitUntil(
      "every card on Telegram (own message or rollup)",
      async () => {
        alive();
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from cards c left join cards r on r.id = c.rollup_id
          where c.kind = 'alert' and coalesce(c.message_id, r.message_id) is null`;
        return row!.n === 0 ? Date.now() : undefined;
      },
      180_000,
      500,
    ).catch(() => null);
    const levels = await db.sql<{ level: string; n: number }[]>`select level, count(*)::int as n from proposals group by level`;
    log(
      `${total} alert groups delivered (the first alone) in ${deliveries.seconds} s; ${total} proposals ${round1((proposalsAt - prepareStart) / 1000)} s after the storm began (levels: ${levels.map((l) => `${l.level} ${l.n}`).join(", ")}); cards on Telegram ${cardsShownAt ? `after ${round1((cardsShownAt - prepareStart) / 1000)} s` : "not all within 180 s"}`,
    );
    const preparedMemory = service.memory();

    // 3. The buttons, built with the service's codec from the proposal ids (most cards are folded
    // into a rollup, which carries no buttons), checked against the buttons Telegram does show.
    const rows = await db.sql<{ id: number; expires_at: Date; own: number | null; rollup: number | null }[]>`
      select p.id, p.expires_at, c.message_id as own, r.message_id as rollup
      from proposals p
      left join cards c on c.group_id = p.group_id and c.episode = p.episode and c.kind = 'alert'
      left join cards r on r.id = c.rollup_id
      where p.runbook_id = ${RUNBOOK_ID} order by p.id`;
    const targets: Target[] = rows.map((r) => ({
      proposalId: r.id,
      data: buttonData(codec, "ap", r.id, r.expires_at),
      messageId: r.own ?? r.rollup ?? 0,
      shownOn: r.own !== null ? "own message" : r.rollup !== null ? "rollup message" : "none",
    }));
    const byProposal = new Map(targets.map((t) => [t.proposalId, t]));
    let buttonsSeen = 0;
    let buttonsSame = 0;
    for (const message of fake.messages()) {
      const markup = message.replyMarkup as { inline_keyboard?: { callback_data?: string }[][] } | undefined;
      for (const b of (markup?.inline_keyboard ?? []).flat()) {
        if (!b.callback_data?.startsWith("ap:")) continue;
        buttonsSeen++;
        if (byProposal.get(Number(b.callback_data.split(":")[1]))?.data === b.callback_data) buttonsSame++;
      }
    }
    const shownOn = countBy(targets.map((t) => t.shownOn));

    const press = async (target: Target, user: typeof anna): Promise<Press> => {
      const update = fake.callbackQuery({ from: user, messageId: target.messageId, data: target.data });
      return send(target.proposalId, update);
    };
    const send = async (proposalId: number, update: Update): Promise<Press> => {
      const sentAt = Date.now();
      const t0 = performance.now();
      let status = 0;
      let error: string | undefined;
      try {
        const response = await postTelegramUpdate(service.url, WEBHOOK_SECRET, update);
        status = response.status;
        const body = await response.text();
        if (status !== 200) error = body.slice(0, 200);
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      return { proposalId, update, callbackId: update.callback_query!.id, sentAt, ms: performance.now() - t0, status, ...(error ? { error } : {}) };
    };
    const runsOf = async (ids: readonly number[]): Promise<Map<number, RunTimes>> => {
      const found = await db.sql<RunTimes[]>`
        select proposal_id, status, (extract(epoch from queued_at) * 1000)::float8 as queued_ms,
               (extract(epoch from started_at) * 1000)::float8 as started_ms, (extract(epoch from finished_at) * 1000)::float8 as finished_ms
        from executions where proposal_id in ${db.sql(ids as number[])}`;
      return new Map(found.map((r) => [r.proposal_id, r]));
    };
    const finished = async (ids: readonly number[]) => {
      const [row] = await db.sql<{ runs: number; started: number; done: number }[]>`
        select count(*)::int as runs, (count(*) filter (where started_at is not null))::int as started,
               (count(*) filter (where status in ${db.sql(TERMINAL)}))::int as done
        from executions where proposal_id in ${db.sql(ids as number[])}`;
      return row!;
    };

    // 4. Warm-up presses, all at once and not counted; then one at a time: press, wait for the run
    // to finish, pause.
    const warmTargets = targets.slice(0, WARMUP);
    const singleTargets = targets.slice(WARMUP, WARMUP + SINGLE);
    const burstTargets = targets.slice(WARMUP + SINGLE);
    await Promise.all(warmTargets.map((t) => press(t, anna)));
    await waitUntil(
      "the warm-up runs",
      async () => ((await finished(warmTargets.map((t) => t.proposalId))).done >= warmTargets.length ? true : undefined),
      60_000,
    ).catch(() => undefined);
    const singlePresses: Press[] = [];
    for (const target of singleTargets) {
      alive();
      singlePresses.push(await press(target, anna));
      await waitUntil(
        `the run of proposal ${target.proposalId}`,
        async () => ((await finished([target.proposalId])).done === 1 ? true : undefined),
        30_000,
        10,
      ).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, SINGLE_PAUSE_MS));
    }
    const singleRuns = await runsOf(singleTargets.map((t) => t.proposalId));
    log(`one at a time: ${singlePresses.length} presses, webhook p50 ${summarize(singlePresses.map((p) => p.ms)).p50} ms`);

    // 5. The burst: every remaining card approved once, CONCURRENCY presses in flight.
    const clock = await clockOffset(db);
    const statsBefore = await tableStats(db);
    const burstIds = burstTargets.map((t) => t.proposalId);
    const burstPresses: Press[] = new Array<Press>(burstTargets.length);
    const cpu = cpuMeter(service.pid);
    const serversCpu = commandCpuMeter(["postgres", "redis-server"]);
    const burstActivity = sampleActivity(db, 50);
    const benchCpuBefore = process.cpuUsage();
    const burstWallStart = performance.now();
    const burst = await runCountedLoad({
      workers: CONCURRENCY,
      count: burstTargets.length,
      task: async (i) => {
        const p = await press(burstTargets[i]!, anna);
        burstPresses[i] = p;
        if (p.status !== 200) throw new Error(`HTTP ${p.status}: ${p.error}`);
      },
    });
    const burstCpu: CpuUse = cpu();
    const burstServersCpu = serversCpu();
    const burstSessions = await burstActivity();
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const benchCpuPercent = round1(((benchCpu.user + benchCpu.system) / 1000 / (performance.now() - burstWallStart)) * 100);
    const afterBurstMemory = service.memory();
    const runsAtBurstEnd = await finished(burstIds);
    log(
      `burst: ${burst.completed} presses in ${burst.seconds} s (${burst.rate}/s), webhook p50 ${burst.latencyMs.p50} ms, p99 ${burst.latencyMs.p99} ms; runs started by then: ${runsAtBurstEnd.started}, finished: ${runsAtBurstEnd.done}`,
    );

    // 6. Until every run of the burst has finished (the executions worker works through the queue).
    const drainCpu = cpuMeter(service.pid);
    const drainServersCpu = commandCpuMeter(["postgres", "redis-server"]);
    const drainActivity = sampleActivity(db, 100);
    const drainStart = Date.now();
    let lastLog = drainStart;
    const drained = await waitUntil(
      `${burstIds.length} runs to finish`,
      async () => {
        alive();
        const f = await finished(burstIds);
        if (Date.now() - lastLog >= 10_000) {
          lastLog = Date.now();
          log(`  +${Math.round((lastLog - drainStart) / 1000)} s: ${f.runs} runs, ${f.started} started, ${f.done} finished`);
        }
        return f.done >= burstIds.length ? Date.now() : undefined;
      },
      SETTLE_MS,
      250,
    ).catch(() => null);
    const drainCpuUse: CpuUse = drainCpu();
    const drainServersCpuUse = drainServersCpu();
    const drainSessions = await drainActivity();
    const statsAfter = await tableStats(db);
    // decisions has no index on proposal_id; each run looks its decisions up by it (see the report).
    const decisionsPlan = (await db.sql.unsafe<{ "QUERY PLAN": string }[]>(`explain update decisions set outcome = 'succeeded' where proposal_id = ${burstIds[0] ?? 0}`))
      .map((r) => r["QUERY PLAN"].trim())
      .join(" / ");

    // 7. Exactly once, checked the hard way: a second approver taps the same cards, and Telegram
    // redelivers the first presses (same update_id). Neither may start a run.
    const dupTargets = burstTargets.slice(0, DUPLICATES);
    const secondTaps: Press[] = [];
    const redeliveries: Press[] = [];
    await runCountedLoad({
      workers: CONCURRENCY,
      count: dupTargets.length * 2,
      task: async (i) => {
        const k = Math.floor(i / 2);
        if (i % 2 === 0) secondTaps.push(await press(dupTargets[k]!, bob));
        else redeliveries.push(await send(dupTargets[k]!.proposalId, burstPresses[k]!.update));
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));

    // What Telegram saw, and what Postgres holds.
    const answers = new Map<string, { at: number; text: string | undefined; n: number }>();
    for (const a of fake.callbackAnswers()) {
      const seen = answers.get(a.callbackQueryId);
      answers.set(a.callbackQueryId, { at: seen?.at ?? a.at, text: seen?.text ?? a.text, n: (seen?.n ?? 0) + 1 });
    }
    const measured = [...singlePresses, ...burstPresses.filter((p): p is Press => p !== undefined)];
    const notRunning = measured.filter((p) => !answers.get(p.callbackId)?.text?.startsWith(`Running ${RUNBOOK_ID}`));
    const burstRuns = await runsOf(burstIds);
    const allIds = targets.map((t) => t.proposalId);
    const [exactly] = await db.sql<{ runs: number; proposals_with_runs: number; approved_decisions: number; proposals_with_decision: number; succeeded: number; interrupted: number }[]>`
      select (select count(*)::int from executions where proposal_id in ${db.sql(allIds)}) as runs,
             (select count(distinct proposal_id)::int from executions where proposal_id in ${db.sql(allIds)}) as proposals_with_runs,
             (select count(*)::int from decisions where action = 'approved' and proposal_id in ${db.sql(allIds)}) as approved_decisions,
             (select count(distinct proposal_id)::int from decisions where action = 'approved' and proposal_id in ${db.sql(allIds)}) as proposals_with_decision,
             (select count(*)::int from executions where status = 'succeeded' and proposal_id in ${db.sql(allIds)}) as succeeded,
             (select count(*)::int from executions where status = 'interrupted' and proposal_id in ${db.sql(allIds)}) as interrupted`;
    const secondTapsAlready = secondTaps.filter((p) => answers.get(p.callbackId)?.text?.startsWith("Already approved")).length;
    const redeliveriesAnsweredAgain = redeliveries.filter((p) => (answers.get(p.callbackId)?.n ?? 0) > 1).length;
    const [backlog] = await db.sql<{ outbox: number; notices: number; cards_behind: number }[]>`
      select (select count(*)::int from outbox) as outbox,
             (select count(*)::int from cards where kind = 'notice' and message_id is null) as notices,
             (select count(*)::int from cards where kind in ('alert', 'rollup') and message_id is not null and sent_version < version) as cards_behind`;
    // A critical alert after all this: how much of the outbox is ahead of its card. Run notices and
    // new cards share the top priority, so older notices go first.
    await deliver(probeBody(salt));
    const probe = await waitUntil(
      "the probe alert's card in the outbox",
      async () => {
        const [r] = await db.sql<{ ahead: number; priority: number }[]>`
          select o.priority, (select count(*)::int from outbox x where x.chat_id = o.chat_id and (x.priority, x.id) < (o.priority, o.id)) as ahead
          from outbox o join cards c on c.id = o.card_id join alert_groups g on g.id = c.group_id
          where g.group_labels->>'alertname' = ${PROBE_ALERTNAME}`;
        return r;
      },
      30_000,
      100,
    ).catch(() => undefined);
    const [aheadKinds] = probe
      ? await db.sql<{ notices: number; others: number }[]>`
          select (count(*) filter (where c.kind = 'notice'))::int as notices, (count(*) filter (where c.kind <> 'notice'))::int as others
          from outbox x join cards c on c.id = x.card_id
          where (x.priority, x.id) < (select o.priority, o.id from outbox o join cards pc on pc.id = o.card_id join alert_groups g on g.id = pc.group_id
                                      where g.group_labels->>'alertname' = ${PROBE_ALERTNAME})`
      : [undefined];
    const minIntervalMs = Math.ceil(60_000 / TELEGRAM_PER_MINUTE);
    const chatCalls = fake.calls.filter((c) => c.chatId === fake.chatId);
    const busiest = slidingWindowMax(
      chatCalls.map((c) => c.at),
      60_000,
    );
    const status429 = fake.calls.filter((c) => c.errorCode === 429).length;
    const endMemory = service.memory();
    const serviceMemory: MemoryStatus | undefined = await service.stop();
    const serviceLogs = service.logs();

    const single = timings(singlePresses, answers, singleRuns);
    const burstT = timings(
      burstPresses.filter((p): p is Press => p !== undefined),
      answers,
      burstRuns,
    );
    const burstRunRows = [...burstRuns.values()];
    const firstStart = Math.min(...burstRunRows.map((r) => r.started_ms ?? Number.POSITIVE_INFINITY));
    const lastFinish = Math.max(...burstRunRows.map((r) => r.finished_ms ?? Number.NEGATIVE_INFINITY));
    const runsPerSecond = Number.isFinite(firstStart) && Number.isFinite(lastFinish) ? round1(burstRunRows.length / ((lastFinish - firstStart) / 1000)) : null;
    const lastStartAfterLastPress = Math.max(...burstRunRows.map((r) => r.started_ms ?? Number.NaN)) - Math.max(...burstPresses.map((p) => p.sentAt + p.ms));

    // 8. The baseline, with the service stopped: the statements the callback path sends Postgres
    // for one press, straight from this process with the same concurrency, on copies of the burst's
    // proposals (open again, fresh ids). No HTTP, grammY, Redis or answer to Telegram.
    const copies = await db.sql<{ id: number }[]>`
      insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, param_error, fingerprint, alertname, status, expires_at)
      select chat_id, group_id, episode, runbook_id, level, risk, params, param_error, fingerprint, alertname, 'open', now() + interval '1 day'
      from proposals where id in ${db.sql(burstIds)} order by id
      returning id`;
    const copyOf = (ids: number[]) => db.sql<{ id: number }[]>`
      insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, param_error, fingerprint, alertname, status, expires_at)
      select chat_id, group_id, episode, runbook_id, level, risk, params, param_error, fingerprint, alertname, 'open', now() + interval '1 day'
      from proposals where id in ${db.sql(ids)} order by id
      returning id`;
    const warmCopies = await copyOf(burstIds.slice(0, CONCURRENCY * 2));
    const singleCopies = await copyOf(burstIds.slice(0, SINGLE));
    const decide = directDecision(db, fake.chatId);
    // Warm-up, as for the service: every connection of the pool open before the measurement.
    await runCountedLoad({ workers: CONCURRENCY, count: warmCopies.length, task: (i) => decide(warmCopies[i]!.id, copies.length + i) });
    const baseline = await runCountedLoad({ workers: CONCURRENCY, count: copies.length, task: (i) => decide(copies[i]!.id, i) });
    // And one at a time, next to the presses one at a time.
    const baselineSingle = await runCountedLoad({ workers: 1, count: singleCopies.length, task: (i) => decide(singleCopies[i]!.id, copies.length + warmCopies.length + i) });
    const [baselineRows] = await db.sql<{ runs: number }[]>`select count(*)::int as runs from executions where proposal_id in ${db.sql(copies.map((c) => c.id))}`;
    log(`direct Postgres: ${baseline.completed} decisions in ${baseline.seconds} s (${baseline.rate}/s), p50 ${baseline.latencyMs.p50} ms, p99 ${baseline.latencyMs.p99} ms`);

    const vsDirect = ratio(burst.rate, baseline.rate);
    const activity = statsDelta(statsBefore, statsAfter);
    const cpuPerPress = burstCpu.processPercent === null ? null : round2(((burstCpu.processPercent / 100) * burst.seconds * 1000) / Math.max(1, burst.completed));
    // A slot of the executions worker per run: how long each run kept one of the 4 slots, including the work after finished_at.
    const slotMsPerRun = runsPerSecond ? round1((4 / runsPerSecond) * 1000) : null;
    const decisionsSeqScans = activity.decisions?.seq_scan ?? 0;
    const mb = (m: MemoryStatus | undefined) => (m ? round1(m.rssKb / 1024) : null);
    const peakMb = serviceMemory ? round1(serviceMemory.peakRssKb / 1024) : null;
    const burstAnswered = burstPresses.filter((p) => p !== undefined && answers.get(p.callbackId)?.text?.startsWith(`Running ${RUNBOOK_ID}`)).length;
    const httpFailures = measured.filter((p) => p.status !== 200);

    const checks: BenchCheck[] = [
      {
        name: "every press was answered \"Running …\"",
        must: true,
        pass: notRunning.length === 0 && measured.length === SINGLE + CARDS,
        detail: `${measured.length - notRunning.length} of ${SINGLE + CARDS} measured presses${notRunning[0] ? ` (first other answer: ${JSON.stringify(answers.get(notRunning[0].callbackId)?.text ?? null)})` : ""}`,
      },
      {
        name: "exactly one run and one approval per pressed card",
        must: true,
        pass: exactly!.runs === total && exactly!.proposals_with_runs === total && exactly!.approved_decisions === total && exactly!.proposals_with_decision === total,
        detail: `${total} cards pressed: ${exactly!.runs} runs for ${exactly!.proposals_with_runs} proposals, ${exactly!.approved_decisions} approvals for ${exactly!.proposals_with_decision}`,
      },
      {
        name: "a second approver's tap and a redelivered update start nothing",
        must: true,
        pass: secondTapsAlready === dupTargets.length && redeliveriesAnsweredAgain === 0 && exactly!.runs === total,
        detail: `${secondTapsAlready} of ${dupTargets.length} second taps answered "Already approved"; ${redeliveriesAnsweredAgain} of ${redeliveries.length} redeliveries answered again; runs still ${exactly!.runs}`,
      },
      {
        name: "every run started and succeeded",
        must: false,
        pass: exactly!.succeeded === total && drained !== null,
        detail: `${exactly!.succeeded} of ${total} succeeded, ${exactly!.interrupted} interrupted${drained === null ? `; the burst's runs had not all finished ${SETTLE_MS / 1000} s after the last press` : ""}`,
      },
      {
        name: "every webhook call answered 200",
        must: false,
        pass: httpFailures.length === 0,
        detail: `${httpFailures.length} of ${measured.length} not 200${httpFailures[0] ? ` (first: ${httpFailures[0].status} ${httpFailures[0].error})` : ""}`,
      },
      {
        name: "buttons built with the codec are the cards' buttons",
        must: false,
        pass: buttonsSeen > 0 && buttonsSame === buttonsSeen,
        detail: `${buttonsSame} of ${buttonsSeen} Approve buttons on Telegram messages have exactly the data the benchmark built`,
      },
      {
        name: "Telegram's limit held (the edits and notices after the presses queue, they do not burst)",
        must: false,
        pass: busiest.count <= TELEGRAM_PER_MINUTE && status429 === 0,
        detail: `busiest 60 s: ${busiest.count} calls to the chat; ${status429} answered 429`,
      },
    ];

    const row = (label: string, s: LatencySummary) => [label, s.count, s.p50, s.p90, s.p99, s.max];
    const report = [
      checkoutLine(env),
      `service: \`topicops serve\` in webhook mode, APPROVER_IDS set, one runbook (${RUNBOOK_ID}: \`node -e ""\`, risk low) set from ${startLevel} to prompted by hand before the cards (one tap runs it; pinned, as /trust does)`,
      `cards: ${total} one-alert groups in one topic; proposals in Postgres ${round1((proposalsAt - prepareStart) / 1000)} s after the storm began. Buttons built with the service's codec from the proposal ids`,
      `  (cards with a message of their own: ${shownOn["own message"] ?? 0}; folded into a rollup, which shows no buttons: ${shownOn["rollup message"] ?? 0}; not on Telegram: ${shownOn.none ?? 0}); ${buttonsSame}/${buttonsSeen} of the Approve buttons Telegram shows match`,
      `presses: callback_query updates POSTed to /telegram; ${WARMUP} warm-up presses at once (not counted), ${SINGLE} one at a time (each after the previous run finished + ${SINGLE_PAUSE_MS} ms), then ${CARDS} with ${CONCURRENCY} concurrent clients`,
      `Telegram: the fake enforces ${TELEGRAM_PER_MINUTE} calls/min per chat, the service keeps its default; answerCallbackQuery has no chat_id and is limited by neither,`,
      `  the card edits and run notices each press causes are, and wait in the outbox: this measures the callback path, not Telegram's edits`,
      `clocks: press times are this process's Date.now(), run times Postgres's now() on the same machine (offset measured ${clock.offsetMs} ms, round trip ${clock.roundTripMs} ms)`,
      "",
      `approvals per second (burst): ${burst.rate}/s (${burst.completed} presses in ${burst.seconds} s); direct Postgres: ${baseline.rate}/s; service / direct: ${vsDirect.fraction} (${vsDirect.percent} %)`,
      "",
      ...table(["", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"], [
        row("burst: webhook POST (HTTP latency)", burstT.http),
        row("burst: press -> \"Running …\" answer", burstT.toAnswer),
        row("burst: press -> decision tx began", burstT.toDecision),
        row("burst: press -> job started", burstT.toStart),
        row("burst: queued -> started", burstT.queuedToStarted),
        row("burst: run (started -> finished)", burstT.run),
        row("one at a time: webhook POST", single.http),
        row("one at a time: press -> answer", single.toAnswer),
        row("one at a time: press -> decision tx began", single.toDecision),
        row("one at a time: press -> job started", single.toStart),
        row("one at a time: queued -> started", single.queuedToStarted),
        row("one at a time: run", single.run),
        row(`direct Postgres (${CONCURRENCY} clients, no HTTP)`, baseline.latencyMs),
        row("direct Postgres, one at a time", baselineSingle.latencyMs),
      ]),
      "",
      `runs: the executions worker (4 at a time, fixed in src/jobs/workers.ts) finished the burst's ${burstRunRows.length} runs at ${runsPerSecond ?? "?"}/s, i.e. ${slotMsPerRun ?? "?"} ms of a slot per run against ${burstT.run.mean} ms from started to finished;`,
      `  when the last press was answered ${runsAtBurstEnd.started} had started;`,
      `  the last run started ${round1(lastStartAfterLastPress / 1000)} s after the last press was answered`,
      `CPU in % of one core (${String(env.cpus)} cores); the service's own CPU per press in the burst, background work included: ${cpuPerPress ?? "?"} ms`,
      `  burst: service ${burstCpu.processPercent ?? "?"} %, its runs' processes ${burstCpu.childrenPercent ?? "?"} %, Postgres ${burstServersCpu.postgres ?? "?"} %, Redis ${burstServersCpu["redis-server"] ?? "?"} %, bench (clients + fake Telegram) ${benchCpuPercent} %; machine ${burstCpu.machineBusyPercent ?? "?"} % busy`,
      `  runs draining: service ${drainCpuUse.processPercent ?? "?"} %, its runs' processes ${drainCpuUse.childrenPercent ?? "?"} %, Postgres ${drainServersCpuUse.postgres ?? "?"} %, Redis ${drainServersCpuUse["redis-server"] ?? "?"} %; machine ${drainCpuUse.machineBusyPercent ?? "?"} % busy`,
      `service's Postgres sessions, burst: ${activityLine(burstSessions)}`,
      `  runs draining: ${activityLine(drainSessions)}`,
      ...burstSessions.lockWaits.map((w) => `  lock wait in the burst (${w.seen} samples): ${w.query}`),
      ...drainSessions.lockWaits.slice(0, 2).map((w) => `  lock wait while draining (${w.seen} samples): ${w.query}`),
      ...burstSessions.idleInTransactionAfter.slice(0, 3).map((w) => `  idle in a transaction in the burst (${w.seen} samples), after: ${w.query}`),
      `decisions: ${decisionsSeqScans} sequential scans during the burst and its runs (${round1(decisionsSeqScans / Math.max(1, burstIds.length))} per run; no index on decisions.proposal_id: ${decisionsPlan})`,
      `Telegram afterwards: ${backlog!.outbox} outbox rows waiting (${backlog!.notices} run notices not sent yet, ${backlog!.cards_behind} shown cards behind); busiest 60 s ${busiest.count} calls, ${status429} × 429`,
      probe
        ? `  a critical alert fired then: its new card (outbox priority ${probe.priority}) is behind ${probe.ahead} rows (${aheadKinds?.notices ?? "?"} run notices, ${aheadKinds?.others ?? "?"} other), ≈ ${round1((probe.ahead * minIntervalMs) / 60_000)} min at one call per ${minIntervalMs / 1000} s`
        : `  a critical alert fired then: its card did not reach the outbox within 30 s`,
      `service RSS: ${mb(readyMemory) ?? "?"} MB when ready, ${mb(preparedMemory) ?? "?"} MB with the cards made, ${mb(afterBurstMemory) ?? "?"} MB after the burst, ${mb(endMemory) ?? "?"} MB at the end; peak ${peakMb ?? "?"} MB (VmHWM)`,
      logSummaryLine(serviceLogs),
      `direct Postgres per press, as the service sends it: insert telegram_updates; read conversation_state; begin; select the proposal; conditional update … returning; select the alert; insert the decision; insert the execution … on conflict do nothing returning; commit`,
    ];

    return {
      name: "approvals",
      title: `approvals: ${CARDS} one-tap approvals through the Telegram webhook, ${CONCURRENCY} clients, vs direct Postgres`,
      startedAt,
      finishedAt: new Date().toISOString(),
      report,
      checks,
      data: {
        environment: env,
        settings: { cards: CARDS, concurrency: CONCURRENCY, single: SINGLE, singlePauseMs: SINGLE_PAUSE_MS, warmup: WARMUP, duplicates: DUPLICATES, telegramPerMinute: TELEGRAM_PER_MINUTE, settleSeconds: SETTLE_MS / 1000 },
        prepare: {
          deliveries: { ...deliveries, statuses: deliveryStatuses },
          secondsToProposals: round2((proposalsAt - prepareStart) / 1000),
          secondsToCardsOnTelegram: cardsShownAt ? round2((cardsShownAt - prepareStart) / 1000) : null,
          proposalLevels: levels,
          runbookLevelBefore: startLevel,
          cardsShownOn: shownOn,
          buttons: { seen: buttonsSeen, same: buttonsSame, built: "with the codec (src/main.ts's key derivation) from the proposal ids and expiry" },
        },
        clock,
        burst: { pass: burst, timings: burstT, serviceCpuMsPerPress: cpuPerPress, slotMsPerRun, answeredRunning: burstAnswered, runsAtBurstEnd, runsPerSecond, lastStartAfterLastPressMs: round1(lastStartAfterLastPress), cpu: burstCpu, benchCpuPercent },
        single: { presses: singlePresses.length, timings: single },
        duplicates: { secondTaps: secondTaps.length, secondTapsAlreadyApproved: secondTapsAlready, redeliveries: redeliveries.length, redeliveriesAnsweredAgain },
        exactlyOnce: exactly,
        baseline: { pass: baseline, oneAtATime: baselineSingle, runsInserted: baselineRows!.runs, statements: "insert telegram_updates; select conversation_state; begin; select proposal; update … returning; select alert; insert decision; insert execution on conflict do nothing returning; commit" },
        ratios: { serviceOverDirect: vsDirect, burstHttpP50OverDirectP50: ratio(burst.latencyMs.p50, baseline.latencyMs.p50) },
        tableActivityDuringBurstAndRuns: activity,
        decisionsByProposalPlan: decisionsPlan,
        drainCpu: drainCpuUse,
        telegram: { chatCalls: chatCalls.length, busiest60s: busiest.count, status429, outboxAtEnd: backlog, criticalProbe: probe ? { ...probe, aheadKinds, minutesAtMinInterval: round1((probe.ahead * minIntervalMs) / 60_000) } : null },
        sessions: { burst: burstSessions, drain: drainSessions },
        serversCpu: { burst: burstServersCpu, drain: drainServersCpuUse },
        memory: { ready: readyMemory ?? null, prepared: preparedMemory ?? null, afterBurst: afterBurstMemory ?? null, end: endMemory ?? null, peakRssMb: peakMb },
        serviceLogs,
      },
    };
  } finally {
    const problems = await scope.close();
    for (const p of problems) console.error(`approvals cleanup: ${p}`);
  }
}

/**
 * One press's worth of Postgres work, as the callback path sends it for a prompted, low-risk
 * proposal: the update dedup, the conversations plugin's read, then the decision transaction of
 * src/decisions/actions.ts (load, conditional update, the alert for the record, decision, run).
 */
function directDecision(db: BenchDatabase, chatId: number) {
  const { sql } = db;
  const actor = { id: anna.id, name: "Anna (@apetrova)" };
  // Far above any update id the fake hands out, so the dedup insert is a new row like a real press.
  const firstUpdateId = 9_000_000_000;
  return async (proposalId: number, i: number) => {
    const inserted = await sql`insert into telegram_updates (update_id) values (${firstUpdateId + i}) on conflict do nothing returning update_id`;
    if (inserted.length !== 1) throw new Error(`update ${firstUpdateId + i} was seen before`);
    await sql`select value from conversation_state where key = ${`${chatId}:general:${actor.id}`}`;
    await sql.begin(async (tx) => {
      const [p] = await tx<{ id: number; group_id: number; episode: number; runbook_id: string; level: string; fingerprint: string; alertname: string; params: Record<string, string> }[]>`
        select * from proposals where id = ${proposalId}`;
      if (!p) throw new Error(`no proposal ${proposalId}`);
      const now = new Date();
      const changed = await tx`
        update proposals set status = 'approved', first_approver_id = ${actor.id}, first_approver_name = ${actor.name},
               decided_by_id = ${actor.id}, decided_by_name = ${actor.name}, decided_at = ${now}
        where id = ${proposalId} and status in ${tx(["open"])} and expires_at > ${now}
        returning id`;
      if (changed.length !== 1) throw new Error(`proposal ${proposalId} was not open`);
      const [alert] = await tx<{ labels: Record<string, string>; annotations: Record<string, string> }[]>`
        select labels, annotations from alerts where group_id = ${p.group_id} and episode = ${p.episode} and fingerprint = ${p.fingerprint}
        order by id desc limit 1`;
      await tx`
        insert into decisions (chat_id, group_id, episode, alertname, labels, summary, runbook_id, level, action, actor_id, actor_name, params, proposal_id)
        values (${chatId}, ${p.group_id}, ${p.episode}, ${p.alertname}, ${tx.json(alert?.labels ?? {})}, ${alert?.annotations.summary ?? null},
                ${p.runbook_id}, ${p.level}, 'approved', ${actor.id}, ${actor.name}, ${tx.json(p.params)}, ${p.id})`;
      const [execution] = await tx<{ id: number }[]>`
        insert into executions (proposal_id, runbook_id, params, trigger, level, group_id, episode, fingerprint)
        values (${p.id}, ${p.runbook_id}, ${tx.json(p.params)}, 'approved', ${p.level}, ${p.group_id}, ${p.episode}, ${p.fingerprint})
        on conflict (proposal_id) do nothing
        returning id`;
      if (!execution) throw new Error(`proposal ${proposalId} already had a run`);
    });
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function log(message: string): void {
  console.log(`  [approvals] ${message}`);
}
