import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeTelegram, type FakeTelegram } from "../fake-telegram/index.ts";
import { freePort } from "../helpers/alertmanager.ts";
import { spawnService, type ChildService } from "../helpers/child-service.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { clearPrefix, testPrefix, testRedisUrl } from "../helpers/redis.ts";
import { HOOK_TOKEN, waitFor } from "../helpers/service.ts";

/*
 * The service as its own process takes 1,000 alerts over 100 deliveries and is killed with
 * SIGKILL part-way. The sender behaves like Alertmanager: it retries until it gets a 2xx. After a
 * restart, every alert that was acknowledged must be shown on Telegram, and no card may be posted
 * twice.
 */

let fake: FakeTelegram;
let db: TestDatabase;
let prefix: string;
let env: Record<string, string>;
let port: number;
let service: ChildService | undefined;

beforeAll(async () => {
  fake = await startFakeTelegram();
  db = await createTestDatabase();
  prefix = testPrefix();
  port = await freePort();
  env = {
    DATABASE_URL: db.url,
    REDIS_URL: testRedisUrl,
    QUEUE_PREFIX: prefix,
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_CHAT_ID: String(fake.chatId),
    TELEGRAM_API_ROOT: fake.apiRoot,
    HOOK_TOKEN,
    TELEGRAM_RATE_PER_MINUTE: "600",
    TELEGRAM_MIN_INTERVAL_MS: "0",
    LOG_LEVEL: "warn",
  };
});
afterAll(async () => {
  await service?.stop();
  await fake?.close();
  const redis = new Redis(testRedisUrl);
  await clearPrefix(redis, prefix);
  await redis.quit();
  await db?.drop();
});

/** Delivery i: group i % 40 gets 10 new alerts; every 7th delivery resolves what its group had. */
function delivery(i: number): { body: string; keys: string[] } {
  const group = i % 40;
  const team = ["critical", "apps", "infra", "home", "other"][group % 5]!;
  const labelsFor = (n: number) => {
    const base: Record<string, string> = { alertname: `Synthetic${group}`, group: String(group), n: String(n) };
    if (team === "critical") base.severity = "critical";
    if (team === "apps") Object.assign(base, { alertname: `KubePodCrashLooping`, namespace: `shop-${group}`, severity: "warning" });
    if (team === "infra") Object.assign(base, { alertname: `NodeDiskPressure${group}`, severity: "warning" });
    if (team === "home") Object.assign(base, { namespace: "home-assistant", severity: "warning" });
    return base;
  };
  const startsAt = "2026-11-20T10:00:00.000Z";
  const alerts = Array.from({ length: 10 }, (_, k) => {
    const n = i * 10 + k;
    return {
      status: "firing",
      labels: labelsFor(n),
      annotations: { summary: `synthetic alert ${n}`, description: `alert ${n} of group ${group}` },
      startsAt,
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus:9090/graph",
      fingerprint: n.toString(16).padStart(16, "0"),
    };
  });
  const body = {
    receiver: "topicops",
    status: "firing",
    alerts,
    groupLabels: { group: String(group) },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    version: "4",
    groupKey: `{}:{group="${group}"}`,
    truncatedAlerts: 0,
  };
  return { body: JSON.stringify(body), keys: alerts.map((a) => `alertmanager:${a.fingerprint}:${startsAt}`) };
}

/** Like Alertmanager: retry on connection errors and 5xx until a 2xx. Returns when accepted. */
async function send(body: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/hooks/alertmanager`, {
        method: "POST",
        headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
        body,
      });
      if (response.ok) return;
      if (response.status < 500) throw new Error(`rejected: ${response.status} ${await response.text()}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("rejected")) throw error;
    }
    if (attempt > 600) throw new Error("never accepted");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("kill -9 in the middle of a stream of alerts", () => {
  it("shows every accepted alert on Telegram after a restart, and posts no card twice", async () => {
    service = await spawnService("serve", env, port);
    const accepted: string[] = [];
    let next = 0;
    const sender = async () => {
      while (next < 100) {
        const d = delivery(next++);
        await send(d.body);
        accepted.push(...d.keys);
      }
    };
    const senders = Promise.all([sender(), sender(), sender()]);

    await waitFor(() => accepted.length >= 400 && fake.messages().length > 3, () => accepted.length, 60_000);
    // Telegram answers everything with 429 for a moment, so no send is between Telegram and our
    // commit when the process dies (that window cannot be closed: Telegram has no idempotency key).
    fake.fail("*", { errorCode: 429, description: "Too Many Requests: retry after 1", retryAfter: 1, times: 1_000_000 });
    await new Promise((r) => setTimeout(r, 300));
    await service.kill9();
    const acceptedAtKill = accepted.length;
    await new Promise((r) => setTimeout(r, 500));
    fake.clearFaults();
    service = await spawnService("serve", env, port);
    await senders;

    expect(acceptedAtKill).toBeLessThan(1000);
    expect(new Set(accepted).size).toBe(1000);

    // Everything stored is processed and on Telegram (stalled jobs and expired leases are recovered).
    await waitFor(
      async () => {
        const [row] = await db.sql<{ pending: number; behind: number }[]>`
          select (select count(*)::int from outbox) as pending,
                 (select count(*)::int from alert_groups where processed_version < version) as behind`;
        return row!.pending === 0 && row!.behind === 0;
      },
      async () => db.sql`select (select count(*) from outbox) as outbox, (select count(*) from alert_groups where processed_version < version) as behind`,
      120_000,
    );

    const stored = await db.sql<{ dedupe_key: string }[]>`select dedupe_key from alerts`;
    expect(new Set(stored.map((r) => r.dedupe_key))).toEqual(new Set(accepted));

    // Every alert's card (or the rollup it was folded into) is on Telegram, showing what Postgres says.
    const unshown = await db.sql<{ n: number }[]>`
      select count(*)::int as n from alerts a
      join cards c on c.group_id = a.group_id and c.episode = a.episode
      left join cards r on r.id = c.rollup_id
      where coalesce(r.message_id, c.message_id) is null or coalesce(r.sent_version, c.sent_version) <> coalesce(r.version, c.version)`;
    expect(unshown[0]!.n).toBe(0);

    const cards = await db.sql<{ id: number; message_id: number; text: string }[]>`
      select id, message_id, text from cards where message_id is not null`;
    const botMessages = fake.messages().filter((m) => m.fromBot);
    // No duplicates: every message the bot posted belongs to exactly one card, and vice versa.
    expect(botMessages.length).toBe(cards.length);
    expect(new Set(cards.map((c) => c.message_id)).size).toBe(cards.length);
    for (const card of cards) {
      const message = fake.message(card.message_id);
      expect(message, `card ${card.id}`).toBeDefined();
      expect(message!.html).toBe(card.text);
    }
    const alertCards = await db.sql<{ n: number }[]>`select count(distinct (group_id, episode))::int as n from cards where kind = 'alert'`;
    expect(alertCards[0]!.n).toBe(40);
  }, 240_000);
});
