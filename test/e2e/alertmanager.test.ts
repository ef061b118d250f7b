import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlertmanager, type RealAlertmanager } from "../helpers/alertmanager.ts";
import { HOOK_TOKEN, startTestService, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;
let am: RealAlertmanager;

beforeAll(async () => {
  t = await startTestService();
  am = await startAlertmanager({ webhookUrl: `${t.url}/hooks/alertmanager`, bearerToken: HOOK_TOKEN });
});
afterAll(async () => {
  await am?.stop();
  await t?.stop();
});

const appsCards = () => {
  const thread = t.fake.topics().find((x) => x.name === "📦 Apps")?.threadId;
  return thread === undefined ? [] : t.fake.messages(undefined, thread);
};

describe("a real Alertmanager sending real webhooks", () => {
  it("fires, then resolves, one card per group, edited in place", async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alert = (pod: string, endsAt: string) => ({
      labels: { alertname: "KubePodCrashLooping", namespace: "media", pod, container: "radarr", severity: "warning" },
      annotations: { summary: "Pod is crash looping.", description: `Pod media/${pod} (radarr) is in waiting state (reason: "CrashLoopBackOff").` },
      generatorURL: "http://prometheus:9090/graph?g0.expr=kube_pod_container_status_waiting_reason&g0.tab=1",
      startsAt,
      endsAt,
    });
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await am.postAlerts([alert("radarr-0", later), alert("radarr-1", later)]);

    const card = await waitFor(
      () => appsCards().find((m) => m.text.includes("KubePodCrashLooping ×2")),
      () => ({ cards: appsCards().map((m) => m.text), am: am.logs().slice(-2000) }),
      30_000,
    );
    expect(card.text).toContain("🔥 FIRING · KubePodCrashLooping ×2 · warning");
    expect(card.text).toContain("namespace=media");
    expect(card.text).toContain("pod=radarr-0");

    const [delivery] = await t.db.sql<{ user_agent: string; body: string }[]>`select user_agent, body from deliveries order by id limit 1`;
    expect(delivery!.user_agent).toMatch(/^Alertmanager\//);
    expect(JSON.parse(delivery!.body)).toMatchObject({ version: "4", receiver: "topicops" });

    // Prometheus resolves an alert by sending it again with endsAt in the past.
    const now = new Date().toISOString();
    await am.postAlerts([alert("radarr-0", now), alert("radarr-1", now)]);
    const resolved = await waitFor(
      () => {
        const m = t.fake.message(card.messageId);
        return m?.text.startsWith("✅ RESOLVED") ? m : undefined;
      },
      () => ({ card: t.fake.message(card.messageId)?.text, am: am.logs().slice(-2000) }),
      30_000,
    );
    expect(resolved.text).toContain("✅ RESOLVED · KubePodCrashLooping ×2");
    expect(appsCards().filter((m) => m.text.includes("KubePodCrashLooping"))).toHaveLength(1);
  });
});
