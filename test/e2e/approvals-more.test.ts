import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelsFingerprint } from "../../src/sources/fingerprint.ts";
import { freePort, startAlertmanager, type RealAlertmanager } from "../helpers/alertmanager.ts";
import { anna, bob, alertBody, buttons, cardIn, press, say, startApprovalsService, type Target } from "../helpers/approvals.ts";
import { HOOK_TOKEN, settled, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;
let target: Target;
let am: RealAlertmanager;
let stop: () => Promise<void>;

beforeAll(async () => {
  const amPort = await freePort();
  ({ t, target, stop } = await startApprovalsService({ ALERTMANAGER_URL: `http://127.0.0.1:${amPort}` }));
  am = await startAlertmanager({ webhookUrl: `${t.url}/hooks/alertmanager`, bearerToken: HOOK_TOKEN, port: amPort });
});
afterAll(async () => {
  await am?.stop();
  await stop?.();
});

const inbox = () => t.fake.topics().find((x) => x.name === "📥 Inbox")!.threadId;
const cardFor = (app: string) => cardIn(t, inbox(), app);

async function fire(app: string) {
  expect((await t.hook("/hooks/alertmanager", alertBody("AppDown", app))).status).toBe(200);
  return waitFor(() => {
    const card = cardFor(app);
    return card && buttons(card).length > 0 ? card : undefined;
  });
}

interface AmSilence {
  id: string;
  status: { state: string };
  createdBy: string;
  comment: string;
  matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[];
}

describe("silences, in a real Alertmanager", () => {
  it("🔕 creates a silence for the card's alerts, made by the person; Unsilence expires it", async () => {
    const card = await fire("sabnzbd");
    expect(buttons(card).map((b) => b.text)).toEqual(expect.arrayContaining(["🔕 1h", "🔕 4h", "🔕 24h"]));
    const answer = await press(t, anna, card, "🔕 4h");
    expect(answer.text).toMatch(/^Silenced for 4h \(until /);
    const silences = (await am.silences()) as AmSilence[];
    expect(silences).toHaveLength(1);
    const [silence] = silences;
    expect(silence!.status.state).toBe("active");
    expect(silence!.createdBy).toBe(`Anna (@apetrova) (Telegram ${anna.id}) via topicops`);
    expect(silence!.matchers).toEqual(
      expect.arrayContaining([
        { name: "alertname", value: "AppDown", isRegex: false, isEqual: true },
        { name: "app", value: "sabnzbd", isRegex: false, isEqual: true },
      ]),
    );
    const silenced = await waitFor(() => {
      const m = t.fake.message(card.messageId);
      return m?.text.includes("🔕 Silenced until") ? m : undefined;
    });
    expect(silenced.text).toContain("by Anna (@apetrova)");
    expect(buttons(silenced).map((b) => b.text)).toContain("🔔 Unsilence");
    expect((await press(t, bob, silenced, "🔔 Unsilence")).text).toBe("Silence lifted.");
    expect(((await am.silences()) as AmSilence[])[0]!.status.state).toBe("expired");
    await waitFor(() => buttons(t.fake.message(card.messageId)).some((b) => b.text === "🔕 1h"));
    const actions = await t.db.sql<{ action: string; actor_name: string }[]>`
      select action, actor_name from decisions where action in ('silenced', 'unsilenced') order by id`;
    expect(actions).toEqual([
      { action: "silenced", actor_name: "Anna (@apetrova)" },
      { action: "unsilenced", actor_name: "Bob (@bob_ops)" },
    ]);
  });
});

describe("restarts and replicas", () => {
  it("a Modify in progress survives a restart of the service", async () => {
    const card = await fire("nzbget");
    await press(t, anna, card, "✏️ Modify");
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.fromBot && m.text.startsWith("app — Which app to restart.")));
    await t.restart();
    await say(t, anna, "nzbget-2", inbox());
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.includes("The card now shows the modified plan (app = nzbget-2)")));
    await waitFor(() => t.fake.message(card.messageId)?.text.includes("/restart/nzbget-2"));
  });

  it("web stores and enqueues; two separate workers share the work and run each approval once", async () => {
    // From here on: one web process (this one's workers stopped) and two worker replicas.
    await t.service.dispatcher!.stop();
    await t.service.workers!.close();
    const w1 = await t.replica({ web: false, workers: true, telegramUpdates: false });
    const w2 = await t.replica({ web: false, workers: true, telegramUpdates: false });
    expect(new Set([t.service.port, w1.port, w2.port]).size).toBe(3);
    const apps = ["a1", "a2", "a3", "a4"];
    for (const app of apps) await t.hook("/hooks/alertmanager", alertBody("AppDown", app));
    const cards = await Promise.all(apps.map((app) => waitFor(() => {
      const c = cardFor(app);
      return c && buttons(c).length > 0 ? c : undefined;
    })));
    for (const card of cards) {
      await press(t, anna, card, "▶️ Approve");
      const confirm = await waitFor(() => (buttons(t.fake.message(card.messageId)).some((b) => b.text.startsWith("✅ Confirm")) ? t.fake.message(card.messageId) : undefined));
      await press(t, bob, confirm!, "✅ Confirm");
    }
    await waitFor(async () => {
      const runs = await t.db.sql<{ status: string }[]>`
        select e.status from executions e join proposals p on p.id = e.proposal_id where p.params->>'app' in ${t.db.sql(apps)}`;
      return runs.length === 4 && runs.every((r) => r.status === "succeeded");
    });
    await settled(t);
    for (const app of apps) expect(target.requests.filter((r) => r.path === `/restart/${app}`)).toHaveLength(1);
    // Each card posted once, whichever worker rendered it.
    for (const app of apps) expect(t.fake.messages(undefined, inbox()).filter((m) => m.text.includes(`app=${app}`) && !m.replyToMessageId)).toHaveLength(1);
    expect(await w1.runbooks()?.library().runbooks.length).toBe(2);
  });
});

describe("loop protection", () => {
  it("after three failed runs for the same alert, it does not run on its own again: a person decides", async () => {
    target.failRestarts = true;
    await t.db.sql`update runbooks set level = 'standard', pinned_level = 'standard', pinned_at = now() where id = 'restart-app'`;
    // The same alert (fingerprint) fires, fails, resolves and fires again, three times.
    for (let i = 0; i < 3; i++) {
      const body = JSON.parse(alertBody("AppDown", "flaky"));
      body.alerts[0].startsAt = `2026-11-20T1${i}:00:00.000Z`;
      await t.hook("/hooks/alertmanager", JSON.stringify(body));
      await waitFor(async () => (await t.db.sql`select id from executions where fingerprint = ${fingerprintOf("flaky")} and status = 'failed'`).length === i + 1);
      // A failed unattended run demotes it; put it back as a person might, to see the loop stop.
      await t.db.sql`update runbooks set level = 'standard', pinned_level = 'standard', pinned_at = now() where id = 'restart-app'`;
      const resolved = JSON.parse(alertBody("AppDown", "flaky", {}, "resolved"));
      resolved.alerts[0].startsAt = body.alerts[0].startsAt;
      await t.hook("/hooks/alertmanager", JSON.stringify(resolved));
    }
    const body = JSON.parse(alertBody("AppDown", "flaky"));
    body.alerts[0].startsAt = "2026-11-20T18:00:00.000Z";
    await t.hook("/hooks/alertmanager", JSON.stringify(body));
    await settled(t);
    const cards = t.fake.messages(undefined, inbox()).filter((m) => m.text.includes("app=flaky") && !m.replyToMessageId);
    const last = cards.at(-1)!;
    expect(last.text).toContain("🛑 It failed 3 times in a row for this alert");
    expect(buttons(last).map((b) => b.text)).toContain("▶️ Approve");
    expect(await t.db.sql`select id from executions where fingerprint = ${fingerprintOf("flaky")}`).toHaveLength(3);
    target.failRestarts = false;
  });
});

function fingerprintOf(app: string): string {
  // The alert's fingerprint, computed the way Alertmanager does (the test body sends none).
  return labelsFingerprint({ alertname: "AppDown", app, severity: "warning" });
}
