import { Api } from "grammy";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { createTopicRegistry, type StandingTopic } from "../../src/topics/registry.ts";
import { startFakeTelegram, type FakeTelegram } from "../fake-telegram/index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let fake: FakeTelegram;
let db: TestDatabase;
const logger = createLogger({ level: "silent" });
const standing: StandingTopic[] = [
  { key: "critical", name: "🔥 Critical", iconColor: 16478047 },
  { key: "apps", name: "📦 Apps", iconColor: 13338331 },
  { key: "inbox", name: "📥 Inbox", iconColor: 7322096 },
];

/** One registry per "replica": its own Api client, the same database and chat. */
const replica = (topics = standing) =>
  createTopicRegistry({ sql: db.sql, api: new Api(fake.token, { apiRoot: fake.apiRoot }), chatId: fake.chatId, topics, defaultKey: "inbox", logger });

beforeAll(async () => {
  fake = await startFakeTelegram();
  db = await createTestDatabase();
});
afterAll(async () => {
  await fake.close();
  await db.drop();
});
beforeEach(async () => {
  fake.reset();
  await db.sql`truncate topics`;
});

describe("keeping the standing topics in the chat", () => {
  it("creates each topic once even when several replicas start together, and remembers the ids", async () => {
    await Promise.all([replica().ensureAll(), replica().ensureAll(), replica().ensureAll()]);
    expect(fake.topics().map((x) => x.name).sort()).toEqual(["🔥 Critical", "📥 Inbox", "📦 Apps"].sort());
    expect(fake.topics().find((x) => x.name === "🔥 Critical")!.iconColor).toBe(16478047);
    const rows = await db.sql<{ key: string; thread_id: number }[]>`select key, thread_id from topics order by key`;
    expect(rows.map((r) => r.key)).toEqual(["apps", "critical", "inbox"]);
    // A restart finds them in Postgres and creates nothing.
    const before = fake.calls.length;
    await replica().ensureAll();
    expect(fake.calls.length).toBe(before);
  });

  it("renames a topic whose name changed in its YAML file", async () => {
    await replica().ensureAll();
    await replica(standing.map((x) => (x.key === "apps" ? { ...x, name: "📦 Workloads" } : x))).ensureAll();
    expect(fake.topics().map((x) => x.name)).toContain("📦 Workloads");
    expect(fake.calls.filter((c) => c.method === "editForumTopic")).toHaveLength(1);
  });

  it("a topic deleted in Telegram is created again once, even if every replica notices", async () => {
    const first = replica();
    await first.ensureAll();
    const old = await first.threadFor("apps");
    fake.deleteTopic(old);
    const fresh = await Promise.all([replica().recreate("apps", old), replica().recreate("apps", old), replica().recreate("apps", old)]);
    expect(new Set(fresh).size).toBe(1);
    expect(fresh[0]).not.toBe(old);
    expect(fake.topics().filter((x) => x.name === "📦 Apps" && !x.deleted)).toHaveLength(1);
    expect(await first.threadFor("apps")).toBe(fresh[0]);
  });

  it("a key that is no longer configured goes to the default topic", async () => {
    const r = replica();
    await r.ensureAll();
    expect(r.resolveKey("home-assistant")).toBe("inbox");
    expect(await r.threadFor("home-assistant")).toBe(await r.threadFor("inbox"));
  });
});
