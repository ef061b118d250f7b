import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTopics, parseTopics, routeSignal, type RoutableSignal } from "../../src/topics/index.ts";
import { fixtureJson, fixturePath } from "../helpers/shared.ts";

const shipped = loadTopics(join(import.meta.dirname, "../../topics"));
const fixturesDir = fixturePath("alertmanager");

/** Expected topic for each alert of each fixture, in the order the alerts appear. */
const expected: Record<string, string[]> = {
  // severity=critical wins over what the alert is about.
  "assembled-firing-critical-node-filesystem.json": ["critical", "critical"],
  "assembled-firing-kube-pod-crashlooping.json": ["apps", "apps"],
  "assembled-firing-namespace-group-mixed-alerts.json": ["apps", "apps", "apps"],
  "assembled-firing-partially-resolved-deployment-replicas.json": ["apps", "apps"],
  "assembled-firing-pv-filling-up-am034-format.json": ["critical"],
  // kube-controller-manager's target is the control plane; payments-api's is an app's.
  "assembled-firing-target-down-truncated.json": ["infrastructure", "apps"],
  "assembled-resolved-kube-pod-crashlooping.json": ["apps", "apps"],
  "assembled-resolved-node-memory-high-utilization.json": ["infrastructure"],
  "verbatim-grafana-oncall-instancedown-3-alerts.json": ["critical", "critical", "critical"],
  // high_memory_load on job docker_nodes: memory of a host, not of an app.
  "verbatim-msteams-single-alert-no-status.json": ["infrastructure"],
  // job="node": a host.
  "verbatim-prometheus_bot-legacy-v3-numeric-groupkey.json": ["infrastructure"],
  // statsd metrics of some device: Critical (any case) is critical, the rest is for a person to sort out.
  "verbatim-prometheus_bot-production-9-alerts.json": [
    "critical", // LoadAverage_15MIN Critical
    "inbox", // Memory_aviable_Warning
    "inbox", // CPU_Percentage_Worning
    "inbox", // LoadAverage_1MIN Warning
    "critical", // LoadAverage_1MIN Critical
    "inbox", // LoadAverage_5MIN Warning
    "critical", // LoadAverage_5MIN Critical
    "inbox", // LoadAverage_15MIN Warning
    "inbox", // Test fisic measure
    "inbox", // Test percentage
    "inbox", // Test fisic measure from KN
  ],
  "verbatim-zulip-firing-2-alerts.json": ["critical", "critical"],
  "verbatim-zulip-resolved-single-alert.json": ["critical"],
};

/** What the Alertmanager parser produces for routing: the labels, and the severity label lowercased. */
function alertSignals(file: string): RoutableSignal[] {
  const payload = fixtureJson<{ alerts: { labels?: Record<string, string> }[] }>(`alertmanager/${file}`);
  return payload.alerts.map((alert) => {
    const labels = alert.labels ?? {};
    return { source: "alertmanager", kind: "alert", severity: labels["severity"]?.toLowerCase() ?? null, labels };
  });
}

describe("routing the Alertmanager fixtures with the shipped topics", () => {
  it("covers every fixture", () => {
    const files = readdirSync(fixturesDir).filter((f) => f.endsWith(".json")).sort();
    expect(Object.keys(expected).sort()).toEqual(files);
  });

  for (const [file, keys] of Object.entries(expected)) {
    it(file, () => {
      const signals = alertSignals(file);
      const routed = signals.map((signal) => routeSignal(shipped, signal).key);
      expect(routed.map((key, i) => `${signals[i]!.labels["alertname"]}: ${key}`)).toEqual(
        keys.map((key, i) => `${signals[i]!.labels["alertname"]}: ${key}`),
      );
    });
  }

  it("explains each decision", () => {
    const [filesystem] = alertSignals("assembled-firing-critical-node-filesystem.json");
    expect(routeSignal(shipped, filesystem!)).toEqual({ key: "critical", rule: "critical: severity in [critical, page]" });
    const [crashloop] = alertSignals("assembled-firing-kube-pod-crashlooping.json");
    expect(routeSignal(shipped, crashloop!).rule).toMatch(/^apps: alertname=~"Kube\(Pod\|/);
    const [controllerManager, paymentsApi] = alertSignals("assembled-firing-target-down-truncated.json");
    expect(routeSignal(shipped, controllerManager!).rule).toMatch(/^infrastructure: namespace=~"kube-\.\*\|/);
    expect(routeSignal(shipped, paymentsApi!)).toEqual({ key: "apps", rule: 'apps: namespace!=""' });
    const [memory] = alertSignals("assembled-resolved-node-memory-high-utilization.json");
    expect(routeSignal(shipped, memory!).rule).toMatch(/^infrastructure: alertname=~"Node\.\*\|/);
    const [, unknown] = alertSignals("verbatim-prometheus_bot-production-9-alerts.json");
    expect(routeSignal(shipped, unknown!)).toEqual({ key: "inbox", rule: "default" });
  });
});

describe("routing other signals with the shipped topics", () => {
  const route = (signal: RoutableSignal) => routeSignal(shipped, signal).key;

  it("sends deployments and dependency updates to their topics, before any label rule", () => {
    expect(route({ source: "coroot", kind: "deployment", labels: { namespace: "monitoring", application: "prometheus" } })).toBe("deployments");
    expect(route({ source: "forge", kind: "dependency_update", labels: { repository: "home/infra" } })).toBe("updates");
    expect(route({ source: "forge", labels: {} })).toBe("updates");
  });

  it("recognises home automation by namespace, job, service, instance or alert name", () => {
    expect(route({ source: "alertmanager", kind: "alert", severity: "warning", labels: { alertname: "KubePodCrashLooping", namespace: "home-assistant" } })).toBe("home-assistant");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "TargetDown", job: "zigbee2mqtt" } })).toBe("home-assistant");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "Up", instance: "192.168.1.20:8123" } })).toBe("home-assistant");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "HomeAssistantUnavailable" } })).toBe("home-assistant");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "BrokerDown", service: "Mosquitto" } })).toBe("home-assistant");
    // Whole words only: a chassis is not hass, and a critical alert still goes to critical.
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "NodeHwmonChassisFan", job: "node-exporter" } })).toBe("infrastructure");
    expect(route({ source: "alertmanager", severity: "critical", labels: { namespace: "home-assistant" } })).toBe("critical");
  });

  it("keeps cluster services in infrastructure and workloads in apps", () => {
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "KubePodCrashLooping", namespace: "monitoring" } })).toBe("infrastructure");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "KubeDaemonSetRolloutStuck", namespace: "longhorn-system" } })).toBe("infrastructure");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "CPUThrottlingHigh", namespace: "kube-system" } })).toBe("infrastructure");
    expect(route({ source: "alertmanager", severity: "info", labels: { alertname: "CPUThrottlingHigh", namespace: "media" } })).toBe("apps");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "KubePersistentVolumeFillingUp", namespace: "databases" } })).toBe("infrastructure");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "KubeletTooManyPods", node: "worker-1" } })).toBe("infrastructure");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "TargetDown", job: "blackbox" } })).toBe("infrastructure");
    expect(route({ source: "alertmanager", severity: "warning", labels: { alertname: "RadarrDown", namespace: "media" } })).toBe("apps");
    expect(route({ source: "coroot", kind: "incident", severity: "warning", labels: { namespace: "shop" } })).toBe("apps");
  });

  it("falls back to the inbox", () => {
    expect(routeSignal(shipped, { source: "coroot", kind: "alert", severity: "warning", labels: {} })).toEqual({ key: "inbox", rule: "default" });
  });
});

describe("routeSignal", () => {
  const config = parseTopics(
    [
      { file: "t/late.yaml", text: "name: Late\npriority: 50\nmatch:\n  - labels: ['team=\"ops\"']\n" },
      { file: "t/early.yaml", text: "name: Early\npriority: 5\nmatch:\n  - severity: [Critical]\n  - labels: ['team=\"ops\"', 'env=\"prod\"']\n" },
      { file: "t/b-tie.yaml", text: "name: B\npriority: 20\nmatch:\n  - source: [Coroot]\n" },
      { file: "t/a-tie.yaml", text: "name: A\npriority: 20\nmatch:\n  - source: [coroot]\n    kind: [incident, alert]\n" },
      { file: "t/fallback.yaml", text: "name: Fallback\ndefault: true\nmatch:\n  - kind: [fallback-test]\n" },
    ],
    "t",
  );

  it("tries topics in priority order, and rules within a topic in order", () => {
    expect(routeSignal(config, { source: "x", labels: { team: "ops", env: "prod" } })).toEqual({
      key: "early",
      rule: 'early: team="ops" and env="prod"',
    });
    expect(routeSignal(config, { source: "x", labels: { team: "ops", env: "dev" } })).toEqual({ key: "late", rule: 'late: team="ops"' });
  });

  it("breaks priority ties by key", () => {
    expect(routeSignal(config, { source: "coroot", kind: "incident", labels: {} }).key).toBe("a-tie");
    expect(routeSignal(config, { source: "coroot", kind: "deployment", labels: {} }).key).toBe("b-tie");
  });

  it("compares severity, source and kind case-insensitively", () => {
    for (const severity of ["critical", "CRITICAL", "Critical", " critical "]) {
      expect(routeSignal(config, { source: "x", severity, labels: {} })).toEqual({ key: "early", rule: "early: severity in [critical]" });
    }
    expect(routeSignal(config, { source: "COROOT", kind: "Incident", labels: {} }).key).toBe("a-tie");
  });

  it("takes the severity label when the signal carries no severity", () => {
    expect(routeSignal(config, { source: "x", labels: { severity: "Critical" } }).key).toBe("early");
    expect(routeSignal(config, { source: "x", severity: null, labels: { severity: "critical" } }).key).toBe("early");
    expect(routeSignal(config, { source: "x", severity: "warning", labels: { severity: "critical" } }).key).toBe("fallback");
  });

  it("does not match a condition on something the signal lacks", () => {
    expect(routeSignal(config, { source: "coroot", labels: {} }).key).toBe("b-tie");
    expect(routeSignal(config, { source: "x", labels: {} })).toEqual({ key: "fallback", rule: "default" });
  });

  it("names the rule when the default topic's own rule matched", () => {
    expect(routeSignal(config, { source: "x", kind: "fallback-test", labels: {} })).toEqual({ key: "fallback", rule: "fallback: kind in [fallback-test]" });
  });

  it("is pure: the same signal routes the same way and is left unchanged", () => {
    const signal: RoutableSignal = { source: "x", severity: "Critical", labels: { team: "ops" } };
    const copy = structuredClone(signal);
    const first = routeSignal(config, signal);
    expect(routeSignal(config, signal)).toEqual(first);
    expect(signal).toEqual(copy);
  });

  it("is fast enough to route a storm inline", () => {
    const signals = alertSignals("verbatim-prometheus_bot-production-9-alerts.json");
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) routeSignal(shipped, signals[i % signals.length]!);
    // About a microsecond each on a laptop; the bound only catches a regex compiled per call.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
