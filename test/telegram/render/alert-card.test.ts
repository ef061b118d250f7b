import { describe, expect, it } from "vitest";
import { parseAlertmanager } from "../../../src/sources/alertmanager.ts";
import type { AlertGroupSignal } from "../../../src/sources/types.ts";
import { renderAlertCard, type CardAlert, type CardGroup } from "../../../src/telegram/render/alert-card.ts";
import { renderRollupCard } from "../../../src/telegram/render/rollup-card.ts";
import { parseTelegramHtml } from "../../fake-telegram/html.ts";
import { fixtureJson } from "../../helpers/shared.ts";

function fromFixture(name: string): { group: CardGroup; alerts: CardAlert[]; signal: AlertGroupSignal } {
  const signal = parseAlertmanager(fixtureJson(`alertmanager/${name}`), { now: new Date("2025-11-18T14:00:00Z") });
  return { group: signal, alerts: signal.alerts, signal };
}

/** What a person sees: Telegram's parse of the HTML (and it must parse). */
function visible(html: string): string {
  return parseTelegramHtml(html).text;
}

describe("alert cards", () => {
  it("shows a firing group: name, count, severity, each alert, labels and links", () => {
    const { group, alerts } = fromFixture("assembled-firing-kube-pod-crashlooping.json");
    const card = renderAlertCard(group, alerts);
    const text = visible(card.text);
    expect(card.status).toBe("firing");
    expect(card.severity).toBe("warning");
    expect(text).toContain("🔥 FIRING · KubePodCrashLooping ×2 · warning");
    expect(text).toContain("namespace=payments");
    expect(text).toContain("Pod is crash looping.");
    expect(text).toContain("pod=payments-api-7c9d8b6f5d-x2k4p · container=api".replace(" · ", " "));
    expect(text).toContain('Pod payments/payments-worker-5f7b9c8d4-m8q2z (worker) is in waiting state (reason: "CrashLoopBackOff")');
    expect(text).toContain("since Nov 18 09:41 UTC");
    const links = parseTelegramHtml(card.text).entities.filter((e) => e.type === "text_link");
    expect(links.map((l) => (l as { url: string }).url)).toEqual(
      expect.arrayContaining([
        "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
        expect.stringContaining("http://alertmanager-main-0:9093/#/alerts?filter="),
        expect.stringContaining("&g0.tab=1"),
      ]),
    );
    expect(card.summary).toMatchObject({ alertname: "KubePodCrashLooping", status: "firing", firing: 2, resolved: 0 });
  });

  it("says how long a resolved group lasted", () => {
    const { group, alerts } = fromFixture("assembled-resolved-kube-pod-crashlooping.json");
    const card = renderAlertCard(group, alerts);
    expect(card.status).toBe("resolved");
    expect(visible(card.text)).toMatch(/^✅ RESOLVED · KubePodCrashLooping ×2 · lasted 32m/);
    expect(visible(card.text)).toContain("resolved Nov 18 10:12 UTC after 32m");
    expect(visible(card.text)).toContain("resolved Nov 18 10:13 UTC after 31m");
  });

  it("a mixed group names every alert and counts resolved ones", () => {
    const { group, alerts } = fromFixture("assembled-firing-partially-resolved-deployment-replicas.json");
    const text = visible(renderAlertCard(group, alerts).text);
    expect(text).toContain("FIRING · KubeDeploymentReplicasMismatch ×2 · warning · 1 resolved");
    const mixed = fromFixture("assembled-firing-namespace-group-mixed-alerts.json");
    const mixedText = visible(renderAlertCard(mixed.group, mixed.alerts).text);
    expect(mixedText).toContain("FIRING · 3 alerts · warning");
    expect(mixedText).toContain("KubeDeploymentReplicasMismatch");
    expect(mixedText).toContain("KubePodNotReady");
  });

  it("tells when Alertmanager left alerts out", () => {
    const { group, alerts } = fromFixture("assembled-firing-target-down-truncated.json");
    expect(visible(renderAlertCard(group, alerts).text)).toContain("➕ 3 more alerts left out by Alertmanager (max_alerts)");
  });

  it("renders every fixture as HTML Telegram accepts", () => {
    for (const name of [
      "assembled-firing-critical-node-filesystem.json",
      "verbatim-prometheus_bot-production-9-alerts.json",
      "verbatim-msteams-single-alert-no-status.json",
      "verbatim-zulip-resolved-single-alert.json",
      "verbatim-grafana-oncall-instancedown-3-alerts.json",
      "verbatim-prometheus_bot-legacy-v3-numeric-groupkey.json",
    ]) {
      const { group, alerts } = fromFixture(name);
      const card = renderAlertCard(group, alerts);
      expect(() => parseTelegramHtml(card.text), name).not.toThrow();
      expect(card.text.length, name).toBeLessThanOrEqual(4096);
    }
  });

  it("escapes whatever an alert carries: labels and annotations cannot open tags or links", () => {
    const { group, alerts } = fromFixture("assembled-firing-kube-pod-crashlooping.json");
    const evil = alerts.map((a) => ({
      ...a,
      labels: { ...a.labels, pod: '<a href="https://evil">x</a>', container: "$(id); rm -rf / & <b>" },
      annotations: { ...a.annotations, description: "</i><script>alert(1)</script> &amp; 1 < 2", runbook_url: "javascript:alert(1)" },
      generatorUrl: "javascript:alert(1)",
    }));
    const card = renderAlertCard({ ...group, commonAnnotations: {} }, evil);
    const parsed = parseTelegramHtml(card.text);
    expect(parsed.text).toContain('<a href="https://evil">x</a>');
    expect(parsed.text).toContain("</i><script>alert(1)</script> &amp; 1 < 2");
    const urls = parsed.entities.filter((e) => e.type === "text_link").map((e) => (e as { url: string }).url);
    expect(urls.some((u) => u.startsWith("javascript:") || u.includes("evil"))).toBe(false);
  });

  it("summarises a huge group under Telegram's limit without cutting an entry", () => {
    const { group, alerts } = fromFixture("assembled-firing-kube-pod-crashlooping.json");
    const many: CardAlert[] = Array.from({ length: 800 }, (_, i) => ({
      ...alerts[0]!,
      fingerprint: i.toString(16).padStart(16, "0"),
      status: i % 3 === 0 ? "resolved" : "firing",
      endsAt: i % 3 === 0 ? new Date("2025-11-18T12:00:00Z") : null,
      labels: { ...alerts[0]!.labels, pod: `pod-${i}-${"x".repeat(40)}` },
      annotations: { ...alerts[0]!.annotations, description: `${"very long description ".repeat(50)} #${i}` },
    }));
    const card = renderAlertCard(group, many);
    expect(card.text.length).toBeLessThanOrEqual(4096);
    const text = visible(card.text);
    const shown = (text.match(/pod-\d+-x/g) ?? []).length;
    expect(shown).toBeGreaterThan(3);
    expect(text).toMatch(new RegExp(`…and ${800 - shown} more \\(\\d+ firing, \\d+ resolved\\)`));
    expect(text).toContain("📖 Runbook");
  });

  it("is deterministic: the same state renders the same text", () => {
    const { group, alerts } = fromFixture("assembled-firing-namespace-group-mixed-alerts.json");
    expect(renderAlertCard(group, [...alerts].reverse()).text).toBe(renderAlertCard(group, alerts).text);
  });
});

describe("rollup cards", () => {
  const member = (alertname: string, severity: string, status: "firing" | "resolved", minute: number) => ({
    severity,
    summary: { title: alertname, alertname, status, firing: status === "firing" ? 1 : 0, resolved: status === "resolved" ? 1 : 0, detail: `pod=p${minute}` },
    createdAt: new Date(Date.UTC(2025, 10, 18, 9, minute)),
    updatedAt: new Date(Date.UTC(2025, 10, 18, 10, minute)),
  });

  it("counts groups and lists the alert names with the most firing first", () => {
    const members = [
      ...Array.from({ length: 30 }, (_, i) => member("KubePodCrashLooping", "warning", i < 25 ? "firing" : "resolved", i)),
      ...Array.from({ length: 5 }, (_, i) => member("NodeDown", "critical", "firing", i)),
      member("Watchdog", "none", "resolved", 1),
    ];
    const rollup = renderRollupCard(members);
    const text = visible(rollup.text);
    expect(rollup.status).toBe("firing");
    expect(rollup.severity).toBe("critical");
    expect(text).toContain("🌊 Alert storm · 36 alert groups since Nov 18 09:00 UTC");
    expect(text).toContain("🔥 30 firing · ✅ 6 resolved · 36 alerts");
    const order = ["NodeDown — 5 firing", "KubePodCrashLooping — 25 firing, 5 resolved", "Watchdog — 1 resolved"].map((s) => text.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("says when the storm is over and stays under the limit with thousands of names", () => {
    const over = renderRollupCard([member("A", "warning", "resolved", 0), member("B", "warning", "resolved", 30)]);
    expect(over.status).toBe("resolved");
    expect(visible(over.text)).toContain("✅ Storm over · all 2 alert groups resolved");
    const huge = renderRollupCard(Array.from({ length: 3000 }, (_, i) => member(`Alert${i}${"n".repeat(60)}`, "warning", "firing", i % 60)));
    expect(huge.text.length).toBeLessThanOrEqual(4096);
    expect(visible(huge.text)).toMatch(/…and \d+ more alert names/);
  });
});
