/**
 * Ingest throughput and latency: how many Alertmanager deliveries per second `topicops web` stores
 * and enqueues, next to two ceilings measured in the same run on the same machine:
 *   - a bare Hono route on the same HTTP stack (what HTTP + body reading alone cost), and
 *   - the same rows inserted straight into Postgres with no HTTP (what the database alone costs).
 * A second pass redelivers groups already stored: the duplicate path Alertmanager's retries and
 * HA twins take.
 */
import { randomInt } from "node:crypto";
import { join } from "node:path";
import type { Database } from "../src/db/client.ts";
import { alertmanagerPayload, groupKeyOf, workloadAlert, type BenchGroup } from "./lib/alertmanager.ts";
import { benchPrefix, checkoutLine, createBenchDatabase, environment } from "./lib/infra.ts";
import { runHttpLoad, runWorkerLoad, type LoadPass, type WorkerPass } from "./lib/load.ts";
import { cpuMeter, freePort, logSummaryLine, repoRoot, startChild, type Child, type CpuUse, type MemoryStatus } from "./lib/process.ts";
import { createScope } from "./lib/scope.ts";
import { BENCH_HOOK_TOKEN, serviceRoot, startBenchTelegram, startServiceProcess } from "./lib/service.ts";
import { ratio, round1 } from "./lib/stats.ts";
import type { BenchCheck, BenchResult } from "./lib/types.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ALERTS_PER_GROUP = 10;
/** The service's own pool size (createDatabase's default), so the direct baseline gets no more connections. */
const POOL = 10;
const PATH = "/hooks/alertmanager";

// One run's identities: a random salt keeps fingerprints apart from any other run's.
const salt = randomInt(0, 2 ** 31);
const epoch = Date.now() - 3_600_000;

/** The group with index `g`: 10 new alerts in a new group (its own namespace, so its own groupKey). */
function groupOf(g: number): BenchGroup {
  const namespace = `payments-${g.toString(36)}`;
  const groupLabels = { alertname: "KubePodCrashLooping", namespace };
  const alerts = Array.from({ length: ALERTS_PER_GROUP }, (_, j) => {
    const n = g * ALERTS_PER_GROUP + j;
    return workloadAlert({
      n,
      salt,
      alertname: "KubePodCrashLooping",
      namespace,
      severity: "warning",
      startsAt: new Date(epoch + (n % 3000) * 1000).toISOString(),
    });
  });
  return { receiver: "telegram-chatops", groupKey: groupKeyOf(groupLabels), groupLabels, alerts };
}

const bodyOf = (g: number) => JSON.stringify(alertmanagerPayload(groupOf(g)));

interface DbCounts {
  deliveries: number;
  changed: number;
  unchanged: number;
  groups: number;
  alerts: number;
}

async function counts(db: Database): Promise<DbCounts> {
  const [row] = await db.sql<DbCounts[]>`
    select count(*)::int as deliveries, (count(*) filter (where changed))::int as changed, (count(*) filter (where not changed))::int as unchanged,
           (select count(*)::int from alert_groups) as groups, (select count(*)::int from alerts) as alerts
    from deliveries`;
  return row!;
}

const diff = (a: DbCounts, b: DbCounts): DbCounts => ({
  deliveries: b.deliveries - a.deliveries,
  changed: b.changed - a.changed,
  unchanged: b.unchanged - a.unchanged,
  groups: b.groups - a.groups,
  alerts: b.alerts - a.alerts,
});

/**
 * Counts once the service has finished what was in flight when the load stopped (autocannon drops
 * the connections; the service still stores what it had read), so each pass's rows land in its own delta.
 */
async function settledCounts(db: Database): Promise<DbCounts> {
  let last = await counts(db);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await counts(db);
    if (now.deliveries === last.deliveries && now.alerts === last.alerts) return now;
    last = now;
  }
}

/** Lets Postgres flush what the previous pass wrote, so one pass's checkpoint does not land in the next. */
async function quiesce(db: Database): Promise<void> {
  await db.sql`checkpoint`.catch(() => {});
}

export async function run(): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const scope = createScope();
  try {
    const db = await createBenchDatabase(scope, { max: POOL });
    const prefix = benchPrefix(scope);
    const fake = await startBenchTelegram(scope);
    const env = await environment(db, serviceRoot);
    let nextGroup = 0;
    /** Runs a pass over groups never sent before, and moves past every index it used. */
    const overNewGroups = async <T extends { sent: number }>(pass: (first: number) => Promise<T>) => {
      const first = nextGroup;
      const result = await pass(first);
      nextGroup += result.sent;
      return { result, first };
    };
    const load = async (child: Child, body: (i: number) => string, seconds: number) => {
      const cpu = cpuMeter(child.pid);
      const pass = await runHttpLoad({ url: child.url, path: PATH, connections: CONNECTIONS, seconds, headers: { authorization: `Bearer ${BENCH_HOOK_TOKEN}` }, body });
      return { ...pass, cpu: cpu() };
    };
    const newGroupsPass = (child: Child, seconds: number) =>
      overNewGroups(async (first) => {
        const pass = await load(child, (i) => bodyOf(first + i), seconds);
        // Absolute group indices, so a later pass can redeliver exactly these groups.
        return { ...pass, acknowledged: pass.acknowledged.map((i) => first + i) };
      });

    // 1. The service, web only: it stores and enqueues; no workers, so Telegram and rendering stay out of it.
    log(`service: topicops web, ${CONNECTIONS} connections, ${SECONDS} s per pass (warm-up ${WARMUP_SECONDS} s)`);
    const service = await startServiceProcess({ scope, command: "web", databaseUrl: db.url, prefix, fake });
    const serviceIdle = service.memory();
    if (WARMUP_SECONDS > 0) await newGroupsPass(service, WARMUP_SECONDS);
    await quiesce(db);
    const before = await settledCounts(db);
    const { result: serviceNew } = await newGroupsPass(service, SECONDS);
    const afterNew = await settledCounts(db);
    log(`service, new groups: ${line(serviceNew)}`);

    // 2. Redeliveries of groups the service acknowledged (stored) in the pass before, in that order.
    const stored = serviceNew.acknowledged;
    await quiesce(db);
    const serviceDup = await load(service, (i) => bodyOf(stored[i % stored.length]!), SECONDS);
    const afterDup = await settledCounts(db);
    log(`service, duplicates: ${line(serviceDup)}`);
    const serviceMemory = await service.stop();
    const serviceLogs = service.logs();

    // 3. Ceiling 1: the bare route on the same stack, same load, same payloads.
    const port = await freePort();
    const bare = await startChild({
      name: "bare hono",
      args: [join(repoRoot, "bin", "run-ts.js"), join(repoRoot, "bench", "lib", "bare-hono-server.ts")],
      env: { PORT: String(port) },
      port,
      scope,
      readyPath: "/readyz",
    });
    if (WARMUP_SECONDS > 0) await newGroupsPass(bare, WARMUP_SECONDS);
    const { result: bareHono } = await newGroupsPass(bare, SECONDS);
    log(`bare hono: ${line(bareHono)}`);
    const bareMemory = await bare.stop();

    // 4. Ceiling 2: the same rows straight into Postgres, from an empty schema like the service's first pass.
    await db.sql`truncate alert_events, alerts, alert_groups, deliveries restart identity cascade`;
    await quiesce(db);
    const insertGroup = directInsert(db);
    const directPass = (seconds: number) =>
      overNewGroups(async (first) => {
        const cpu = cpuMeter(process.pid);
        const pass = await runWorkerLoad({ workers: CONNECTIONS, seconds, task: (i) => insertGroup(first + i) });
        return { ...pass, cpu: cpu() };
      });
    if (WARMUP_SECONDS > 0) await directPass(WARMUP_SECONDS);
    await quiesce(db);
    const beforeDirect = await counts(db);
    const { result: direct } = await directPass(SECONDS);
    const afterDirect = await counts(db);
    log(`direct inserts: ${direct.rate} tx/s, p50 ${direct.latencyMs.p50} ms, p99 ${direct.latencyMs.p99} ms`);

    const newDelta = diff(before, afterNew);
    const dupDelta = diff(afterNew, afterDup);
    const directDelta = diff(beforeDirect, afterDirect);
    const vsBare = ratio(serviceNew.rps, bareHono.rps);
    const vsDirect = ratio(serviceNew.rps, direct.rate);
    const dupVsNew = ratio(serviceDup.rps, serviceNew.rps);
    const mb = (m: MemoryStatus | undefined) => (m ? round1(m.peakRssKb / 1024) : null);

    const checks: BenchCheck[] = [
      {
        name: "new-groups pass measured the new path",
        must: false,
        pass: newDelta.unchanged === 0 && newDelta.alerts >= serviceNew.completed * ALERTS_PER_GROUP,
        detail: `${newDelta.deliveries} deliveries stored, ${newDelta.unchanged} of them duplicates, ${newDelta.groups} new groups, ${newDelta.alerts} new alerts`,
      },
      {
        name: "duplicates pass measured the duplicate path",
        must: false,
        pass: dupDelta.changed === 0 && dupDelta.alerts === 0 && dupDelta.groups === 0,
        detail: `${dupDelta.deliveries} deliveries stored, ${dupDelta.changed} changed something, ${dupDelta.alerts} new alerts`,
      },
      {
        name: "service answered every request with 2xx",
        must: false,
        pass: serviceNew.non2xx + serviceNew.errors + serviceDup.non2xx + serviceDup.errors === 0,
        detail: `new: ${serviceNew.errors} errors, ${serviceNew.non2xx} non-2xx; duplicates: ${serviceDup.errors} errors, ${serviceDup.non2xx} non-2xx`,
      },
      {
        name: "direct inserts all committed",
        must: false,
        pass: direct.failed === 0 && directDelta.alerts === direct.completed * ALERTS_PER_GROUP,
        detail: `${direct.completed} transactions, ${direct.failed} failed${direct.firstError ? ` (${direct.firstError})` : ""}, ${directDelta.alerts} alerts`,
      },
    ];

    const report = [
      checkoutLine(env),
      `${CONNECTIONS} connections, ${SECONDS} s per pass after a ${WARMUP_SECONDS} s warm-up; each request is one Alertmanager v4 delivery of ${ALERTS_PER_GROUP} alerts (~${Math.round(bodyOf(0).length / 1024)} KiB)`,
      `service under test: \`topicops web\` only (stores and enqueues; workers off, so no rendering or Telegram in the measurement)`,
      "",
      `${"".padEnd(34)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)} ${"errors".padStart(7)} ${"non-2xx".padStart(8)}`,
      row("service, new groups", serviceNew.rps, serviceNew.latencyMs, serviceNew.errors, serviceNew.non2xx),
      row("service, duplicates (redelivery)", serviceDup.rps, serviceDup.latencyMs, serviceDup.errors, serviceDup.non2xx),
      row("bare hono (same stack, no work)", bareHono.rps, bareHono.latencyMs, bareHono.errors, bareHono.non2xx),
      row(`direct inserts (no HTTP, pool ${POOL})`, direct.rate, direct.latencyMs, direct.failed, 0) + "  (tx/s)",
      "",
      `service / bare hono:      ${vsBare.fraction} (${vsBare.percent} %)`,
      `service / direct inserts: ${vsDirect.fraction} (${vsDirect.percent} %)`,
      `duplicates / new groups:  ${dupVsNew.fraction} (${dupVsNew.percent} %)`,
      `service RSS: ${serviceIdle ? round1(serviceIdle.rssKb / 1024) : "?"} MB when ready, peak ${mb(serviceMemory)} MB (VmHWM); bare hono peak ${mb(bareMemory)} MB`,
      logSummaryLine(serviceLogs),
      `CPU (% of one core; machine busy in % of all ${String(env.cpus)} cores, shared by load generator, server and Postgres):`,
      `  service new: server ${cpuLine(serviceNew.cpu)}, generator ${serviceNew.loadGeneratorCpuPercent} %`,
      `  service dup: server ${cpuLine(serviceDup.cpu)}, generator ${serviceDup.loadGeneratorCpuPercent} %`,
      `  bare hono:   server ${cpuLine(bareHono.cpu)}, generator ${bareHono.loadGeneratorCpuPercent} %`,
      `  direct:      bench process ${cpuLine(direct.cpu)}`,
    ];

    return {
      name: "ingest",
      title: "Alertmanager ingest: service vs bare Hono vs direct inserts",
      startedAt,
      finishedAt: new Date().toISOString(),
      report,
      checks,
      data: {
        environment: env,
        settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, alertsPerRequest: ALERTS_PER_GROUP, pool: POOL, bodyBytes: bodyOf(0).length },
        service: {
          command: "web (workers off)",
          newGroups: { ...publish(serviceNew), stored: newDelta },
          duplicates: { ...publish(serviceDup), stored: dupDelta },
          memory: { ready: serviceIdle ?? null, end: serviceMemory ?? null, peakRssMb: mb(serviceMemory) },
          logs: serviceLogs,
        },
        bareHono: { ...publish(bareHono), memory: bareMemory ?? null, peakRssMb: mb(bareMemory) },
        directInserts: { ...direct, stored: directDelta },
        ratios: { serviceOverBareHono: vsBare, serviceOverDirectInserts: vsDirect, duplicatesOverNewGroups: dupVsNew },
      },
    };
  } finally {
    const problems = await scope.close();
    for (const p of problems) console.error(`ingest cleanup: ${p}`);
  }
}

/**
 * What the ceiling does per "request": one transaction inserting the delivery row, upserting the
 * group row and inserting the 10 alert rows in one multi-row insert, with the service's own client
 * settings (createDatabase) and the real schema.
 */
function directInsert(db: Database) {
  return async (g: number) => {
    const group = groupOf(g);
    const payload = alertmanagerPayload(group);
    const body = JSON.stringify(payload);
    await db.sql.begin(async (tx) => {
      const [delivery] = await tx<{ id: number }[]>`
        insert into deliveries (source, content_type, user_agent, body, signal_count)
        values ('alertmanager', 'application/json', null, ${body}, ${group.alerts.length})
        returning id`;
      const [row] = await tx<{ id: number }[]>`
        insert into alert_groups (source, group_key, receiver, group_labels, common_labels, common_annotations, external_url, truncated_alerts)
        values ('alertmanager', ${group.groupKey}, ${group.receiver}, ${tx.json(group.groupLabels)}, ${tx.json(payload.commonLabels as Record<string, string>)},
                ${tx.json(payload.commonAnnotations as Record<string, string>)}, ${payload.externalURL as string}, 0)
        on conflict (source, group_key) do update set updated_at = now()
        returning id`;
      const rows = group.alerts.map((a) => ({
        group_id: row!.id,
        episode: 1,
        dedupe_key: `alertmanager:${a.fingerprint}:${new Date(a.startsAt).toISOString()}`,
        fingerprint: a.fingerprint,
        alertname: a.labels.alertname!,
        severity: a.labels.severity ?? null,
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        starts_at: new Date(a.startsAt),
        ends_at: null,
        generator_url: a.generatorURL,
        changed_version: 1,
        last_delivery_id: delivery!.id,
      }));
      await tx`insert into alerts ${tx(rows as never)} on conflict (dedupe_key) do nothing`;
    });
  };
}

function cpuLine(cpu: CpuUse): string {
  return `${cpu.processPercent ?? "?"} %, machine ${cpu.machineBusyPercent ?? "?"} % busy`;
}

/** A pass for the JSON file: the list of acknowledged indices is bookkeeping, its length is enough. */
function publish<T extends LoadPass>({ acknowledged, ...rest }: T): Omit<T, "acknowledged"> & { acknowledgedCount: number } {
  return { ...rest, acknowledgedCount: acknowledged.length };
}

function row(label: string, rps: number, l: { p50: number; p99: number; max: number }, errors: number, non2xx: number): string {
  const n = (v: number, w = 8) => String(v).padStart(w);
  return `${label.padEnd(34)} ${n(rps)} ${n(l.p50)} ${n(l.p99)} ${n(l.max)} ${n(errors, 7)} ${n(non2xx)}`;
}

function line(p: LoadPass | WorkerPass): string {
  return "rps" in p ? `${p.rps} req/s, p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms, ${p.errors} errors, ${p.non2xx} non-2xx` : `${p.rate}/s`;
}

function log(message: string): void {
  console.log(`  [ingest] ${message}`);
}
