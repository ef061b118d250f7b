import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isAppError } from "../../src/errors.ts";
import { labelsFingerprint, maxAlertsPerWebhook, parseAlertmanager } from "../../src/sources/index.ts";
import type { AlertGroupSignal } from "../../src/sources/index.ts";
import { fixture, fixtureJson, fixturePath } from "../helpers/shared.ts";

const now = new Date("2026-01-01T00:00:00Z");
const parse = (body: unknown): AlertGroupSignal => parseAlertmanager(body, { now });

/** The reason parseAlertmanager gives for refusing `body`; fails the test if it accepts it. */
function reasonFor(body: unknown): string {
  try {
    parse(body);
  } catch (error) {
    expect(isAppError(error, "invalid_payload")).toBe(true);
    return (error as Error).message;
  }
  throw new Error("expected the body to be rejected");
}

/** A minimal, valid version 4 alert, to be spoiled one field at a time. */
function alert(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: "firing",
    labels: { alertname: "DiskFull", instance: "nas:9100", severity: "warning" },
    annotations: { summary: "Disk is full" },
    startsAt: "2025-11-18T09:41:12.345Z",
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus:9090/graph?g0.expr=up&g0.tab=1",
    fingerprint: "0123456789abcdef",
    ...overrides,
  };
}

function webhook(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    receiver: "telegram",
    status: "firing",
    alerts: [alert()],
    groupLabels: { alertname: "DiskFull" },
    commonLabels: { alertname: "DiskFull" },
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    version: "4",
    groupKey: '{}:{alertname="DiskFull"}',
    truncatedAlerts: 0,
    ...overrides,
  };
}

// ---- fixtures ---------------------------------------------------------------------------------

interface ExpectedAlert {
  alertname: string;
  status: "firing" | "resolved";
  fingerprint: string;
  computed: boolean;
  startsAt: string;
  endsAt: string | null;
  severity: string | null;
}

interface Expected {
  receiver: string;
  groupKey: string;
  status: "firing" | "resolved";
  version: string;
  truncatedAlerts: number;
  notificationReason: string | null;
  externalUrl: string | null;
  alerts: ExpectedAlert[];
  warnings: string[];
  /** Anything else worth pinning for this fixture. */
  extra?: (signal: AlertGroupSignal) => void;
}

const zero = null;
const firing = (alertname: string, fingerprint: string, startsAt: string, severity: string | null): ExpectedAlert => ({
  alertname,
  status: "firing",
  fingerprint,
  computed: false,
  startsAt,
  endsAt: zero,
  severity,
});
const resolved = (a: ExpectedAlert, endsAt: string | null): ExpectedAlert => ({ ...a, status: "resolved", endsAt });
const computed = (a: ExpectedAlert): ExpectedAlert => ({ ...a, computed: true });

const kubeAm = "http://alertmanager-main-0:9093";
const crashApi = firing("KubePodCrashLooping", "bed80a6c8c212e9d", "2025-11-18T09:41:12.345Z", "warning");
const crashWorker = firing("KubePodCrashLooping", "e8fc9dabab75bb56", "2025-11-18T09:42:42.345Z", "warning");
const botPrefix = "fingerprint missing in 11 of 11 alerts (alerts[0], alerts[1], alerts[2], alerts[3], alerts[4] and 6 more)";
const scada = "483b197c-7fe8-11e6-b772-acb57db47f23";
const legacyGroupKey =
  `groupKey is a number, not Alertmanager's "<route>:<group labels>" string (legacy senders send a hash or 0)`;

const expectations: Record<string, Expected> = {
  "assembled-firing-critical-node-filesystem.json": {
    receiver: "Critical",
    groupKey: '{}/{severity="critical"}:{namespace="monitoring"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: kubeAm,
    alerts: [
      firing("NodeFilesystemSpaceFillingUp", "5ce48a9179749f3b", "2025-11-18T03:15:27.901Z", "critical"),
      firing("NodeFilesystemAlmostOutOfSpace", "443ce1a80790b068", "2025-11-18T04:02:57.901Z", "critical"),
    ],
    warnings: [],
    extra: (signal) => {
      expect(signal.commonAnnotations).toEqual({});
      expect(signal.groupLabels).toEqual({ namespace: "monitoring" });
    },
  },
  "assembled-firing-kube-pod-crashlooping.json": {
    receiver: "telegram-chatops",
    groupKey: '{}:{alertname="KubePodCrashLooping", namespace="payments"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: kubeAm,
    alerts: [crashApi, crashWorker],
    warnings: [],
    extra: (signal) => {
      // Go's encoder wrote `\u0026`; after JSON.parse it is a plain ampersand.
      expect(fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json")).toContain("\\u0026g0.tab=1");
      expect(signal.alerts[0]!.generatorUrl).toContain("&g0.tab=1");
      expect(signal.alerts[0]!.generatorUrl).not.toContain("\\u0026");
      expect(signal.alerts[0]!.annotations["description"]).toContain('(reason: "CrashLoopBackOff")');
      expect(signal.alerts[0]!.dedupeKey).toBe("alertmanager:bed80a6c8c212e9d:2025-11-18T09:41:12.345Z");
    },
  },
  "assembled-firing-namespace-group-mixed-alerts.json": {
    receiver: "Default",
    groupKey: '{}:{namespace="payments"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: kubeAm,
    alerts: [
      crashApi,
      firing("KubeDeploymentReplicasMismatch", "05cf378bd7b111d6", "2025-11-18T09:56:42.345Z", "warning"),
      firing("KubePodNotReady", "b6b0238ea9293e72", "2025-11-18T09:56:12.345Z", "warning"),
    ],
    warnings: [],
  },
  "assembled-firing-partially-resolved-deployment-replicas.json": {
    receiver: "telegram-chatops",
    groupKey: '{}:{alertname="KubeDeploymentReplicasMismatch", namespace="checkout"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: "some alerts resolved",
    externalUrl: kubeAm,
    alerts: [
      firing("KubeDeploymentReplicasMismatch", "8dfbc87599184782", "2025-11-18T12:01:42.345Z", "warning"),
      resolved(
        firing("KubeDeploymentReplicasMismatch", "758ca7cc4cecb71e", "2025-11-18T12:01:42.345Z", "warning"),
        "2025-11-18T12:31:12.345Z",
      ),
    ],
    warnings: [],
  },
  "assembled-firing-pv-filling-up-am034-format.json": {
    receiver: "Critical",
    groupKey: '{}/{severity="critical"}:{namespace="databases"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: "first notification",
    externalUrl: kubeAm,
    alerts: [firing("KubePersistentVolumeFillingUp", "98e07f295e5a6640", "2025-11-18T11:20:05.004Z", "critical")],
    warnings: [],
    extra: (signal) => expect(signal.alerts[0]!.labels["cluster"]).toBe("prod-eu-1"),
  },
  "assembled-firing-target-down-truncated.json": {
    receiver: "telegram-chatops",
    groupKey: '{}:{alertname="TargetDown"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 3,
    notificationReason: null,
    externalUrl: kubeAm,
    alerts: [
      firing("TargetDown", "1cbed007d7242a05", "2025-11-18T08:00:10.112Z", "warning"),
      firing("TargetDown", "5a860127ee4233cb", "2025-11-18T08:03:40.112Z", "warning"),
    ],
    warnings: [],
  },
  "assembled-resolved-kube-pod-crashlooping.json": {
    receiver: "telegram-chatops",
    groupKey: '{}:{alertname="KubePodCrashLooping", namespace="payments"}',
    status: "resolved",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: kubeAm,
    alerts: [resolved(crashApi, "2025-11-18T10:12:42.345Z"), resolved(crashWorker, "2025-11-18T10:13:12.345Z")],
    warnings: [],
    extra: (signal) => {
      // Same identity as the firing notification: the resolve updates the record, not a new one.
      const firingSignal = parse(fixtureJson("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
      expect(signal.alerts.map((a) => a.dedupeKey)).toEqual(firingSignal.alerts.map((a) => a.dedupeKey));
      expect(signal.groupKey).toBe(firingSignal.groupKey);
    },
  },
  "assembled-resolved-node-memory-high-utilization.json": {
    receiver: "telegram-chatops",
    groupKey: '{}:{alertname="NodeMemoryHighUtilization", namespace="monitoring"}',
    status: "resolved",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: "all alerts resolved",
    externalUrl: kubeAm,
    alerts: [
      resolved(
        firing("NodeMemoryHighUtilization", "6374bc07a308340d", "2025-11-18T13:10:57.901Z", "warning"),
        "2025-11-18T13:52:27.901Z",
      ),
    ],
    warnings: [],
  },
  "verbatim-grafana-oncall-instancedown-3-alerts.json": {
    receiver: "combo",
    groupKey: '{}:{alertname="InstanceDown"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: null, // sent as ""
    alerts: [
      firing("InstanceDown", "f404ecabc8dd5cd7", "2023-06-12T08:24:38.326Z", "critical"),
      firing("InstanceDown", "f8f08d4e32c61a9d", "2023-06-12T08:24:38.326Z", "critical"),
      firing("InstanceDown", "39f38c0611ee7abd", "2023-06-12T08:24:38.326Z", "critical"),
    ],
    warnings: [], // numFiring/numResolved are Grafana's additions, ignored silently
    extra: (signal) => {
      expect(signal.alerts.map((a) => a.generatorUrl)).toEqual([null, null, null]);
      expect(signal.alerts.map((a) => a.labels["group"])).toEqual(["production", "canary", "production"]);
    },
  },
  "verbatim-msteams-single-alert-no-status.json": {
    receiver: "teams_proxy",
    groupKey: '{}:{alertname="high_memory_load"}',
    status: "firing",
    version: "4",
    truncatedAlerts: 0, // absent
    notificationReason: null,
    externalUrl: "http://docker.for.mac.host.internal:9093",
    // startsAt has nanoseconds and a -05:00 offset.
    alerts: [computed(firing("high_memory_load", "b29784719d6a11e6", "2018-03-07T11:33:21.873Z", "warning"))],
    warnings: [
      "fingerprint missing in 1 of 1 alert (alerts[0]); computed from the labels as Alertmanager does",
      "status missing in 1 of 1 alert (alerts[0]); derived from endsAt",
    ],
    extra: (signal) => expect(signal.alerts[0]!.generatorUrl).toBeNull(),
  },
  "verbatim-prometheus_bot-legacy-v3-numeric-groupkey.json": {
    receiver: "admins",
    groupKey: 'derived:admins:{alertname="something_happend", instance="server01.int:9100"}',
    status: "firing",
    version: "3",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: "https://alert-manager.example.com",
    alerts: [computed(firing("something_happend", "73fd592d16a05de6", "2016-04-27T20:46:37.903Z", "warning"))],
    warnings: [
      "fingerprint missing in 1 of 1 alert (alerts[0]); computed from the labels as Alertmanager does",
      `${legacyGroupKey}; derived "derived:admins:{alertname=\\"something_happend\\", instance=\\"server01.int:9100\\"}" from receiver and groupLabels`,
      'version is "3", not "4"; read as version 4 as far as its fields allow',
    ],
    extra: (signal) => expect(signal.alerts[0]!.generatorUrl).toBe("https://example.com/graph#..."),
  },
  // The file name says 9 alerts; the file holds 11.
  "verbatim-prometheus_bot-production-9-alerts.json": {
    receiver: "telegram_bot",
    groupKey: `derived:telegram_bot:{scada_uuid="${scada}"}`,
    status: "firing",
    version: "0",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: "http://alert.greco.cf/alert-manager",
    alerts: [
      ["LoadAverage_15MIN", "edbf774a1c2cbb27", "2017-01-26T13:31:54.865Z", "critical"],
      ["Memory_aviable_Warning", "1a587dc220df580b", "2017-01-26T13:14:46.804Z", "warning"],
      ["CPU_Percentage_Worning", "8055e54579680a45", "2017-01-26T13:41:06.811Z", "warning"],
      ["LoadAverage_1MIN", "17a54a4037ce83a2", "2017-01-26T13:29:09.806Z", "warning"],
      ["LoadAverage_1MIN", "004e77e67c92f143", "2017-01-26T13:31:24.806Z", "critical"],
      ["LoadAverage_5MIN", "de4d3ebc11e778ca", "2017-01-26T13:30:54.806Z", "warning"],
      ["LoadAverage_5MIN", "fe478824ce78c2db", "2017-01-26T13:33:51.876Z", "critical"],
      ["LoadAverage_15MIN", "0a9cd18b1c4d279e", "2017-01-26T13:30:00.811Z", "warning"],
      ["Test fisic measure", "cdd9cd14580e5b94", "2017-01-26T13:30:00.811Z", "warning"],
      ["Test percentage", "89410c158dda9950", "2017-01-26T13:30:00.811Z", "warning"],
      ["Test fisic measure from KN", "30de99eb65552349", "2017-01-26T13:30:00.811Z", "warning"],
    ].map(([name, fp, startsAt, severity]) => computed(firing(name!, fp!, startsAt!, severity!))),
    warnings: [
      `${botPrefix}; computed from the labels as Alertmanager does`,
      "status missing in 11 of 11 alerts (alerts[0], alerts[1], alerts[2], alerts[3], alerts[4] and 6 more); derived from endsAt",
      `${legacyGroupKey}; derived "derived:telegram_bot:{scada_uuid=\\"${scada}\\"}" from receiver and groupLabels`,
      'version is "0", not "4"; read as version 4 as far as its fields allow',
    ],
    extra: (signal) => {
      expect(signal.alerts[0]!.labels["severity"]).toBe("Critical"); // labels kept as sent
      expect(signal.alerts[2]!.annotations["name"]).toBe("Heartbeat ❤️");
      expect(signal.alerts[0]!.generatorUrl).toContain("&g0.tab=0");
      expect(new Set(signal.alerts.map((a) => a.dedupeKey)).size).toBe(11);
    },
  },
  "verbatim-zulip-firing-2-alerts.json": {
    receiver: "ops-zulip",
    groupKey: "{}/{}:{}",
    status: "firing",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: "http://ops1:9093",
    // Nanosecond startsAt, truncated to milliseconds. The second fingerprint was hand-edited
    // upstream (same labels); as sent it is the alert's identity.
    alerts: [
      firing("High CPU Temperature", "a1bc48475b20e73d", "2020-02-06T00:17:58.432Z", "critical"),
      firing("High CPU Temperature", "c2ea85182f28cbd9", "2020-02-06T00:17:58.432Z", "critical"),
    ],
    warnings: [],
    extra: (signal) => {
      expect(signal.groupLabels).toEqual({});
      expect(signal.alerts[0]!.generatorUrl).toContain("%2B%22%7D%29+%3E+15&g0.tab=1");
    },
  },
  "verbatim-zulip-resolved-single-alert.json": {
    receiver: "ops-zulip",
    groupKey: "{}/{}:{}",
    status: "resolved",
    version: "4",
    truncatedAlerts: 0,
    notificationReason: null,
    externalUrl: "http://ops1:9093",
    // Resolved, yet endsAt is the zero time: the status stands, the end time is unknown.
    alerts: [resolved(firing("High CPU Temperature", "a1bc48475b20e73d", "2020-02-06T00:17:58.432Z", "critical"), null)],
    warnings: [],
  },
};

describe("parseAlertmanager on the shared fixtures", () => {
  const files = readdirSync(fixturePath("alertmanager"))
    .filter((file) => file.endsWith(".json"))
    .sort();

  it("has an expectation for every fixture file, and a file for every expectation", () => {
    expect(files.length).toBeGreaterThan(0);
    expect(Object.keys(expectations).sort()).toEqual(files);
  });

  it.each(files)("%s", (file) => {
    const expected = expectations[file];
    // A new fixture without an expectation fails here rather than passing unexamined.
    expect(expected, `no expectation for ${file}`).toBeDefined();
    if (!expected) return;
    const signal = parse(fixtureJson(`alertmanager/${file}`));

    expect(signal.source).toBe("alertmanager");
    expect(signal.receiver).toBe(expected.receiver);
    expect(signal.groupKey).toBe(expected.groupKey);
    expect(signal.status).toBe(expected.status);
    expect(signal.version).toBe(expected.version);
    expect(signal.truncatedAlerts).toBe(expected.truncatedAlerts);
    expect(signal.notificationReason).toBe(expected.notificationReason);
    expect(signal.externalUrl).toBe(expected.externalUrl);
    expect(signal.warnings).toEqual(expected.warnings);
    expect(
      signal.alerts.map((a) => ({
        alertname: a.alertname,
        status: a.status,
        fingerprint: a.fingerprint,
        computed: a.fingerprintComputed,
        startsAt: a.startsAt.toISOString(),
        endsAt: a.endsAt?.toISOString() ?? null,
        severity: a.severity,
      })),
    ).toEqual(expected.alerts);
    for (const a of signal.alerts) {
      expect(a.dedupeKey).toBe(`alertmanager:${a.fingerprint}:${a.startsAt.toISOString()}`);
      expect(a.labels["alertname"]).toBe(a.alertname);
      if (a.fingerprintComputed) expect(a.fingerprint).toBe(labelsFingerprint(a.labels));
    }
    expected.extra?.(signal);
  });
});

// ---- rejections -------------------------------------------------------------------------------

describe("parseAlertmanager rejects what it cannot use, naming the path", () => {
  const oneAlert = (overrides: Record<string, unknown>) => webhook({ alerts: [alert(overrides)] });

  it.each<[string, unknown, string]>([
    ["null body", null, "body is not an Alertmanager webhook: expected a JSON object, got null"],
    ["array body", [alert()], "body is not an Alertmanager webhook: expected a JSON object, got an array"],
    ["string body", "firing", 'body is not an Alertmanager webhook: expected a JSON object, got "firing"'],
    ["number body", 42, "body is not an Alertmanager webhook: expected a JSON object, got 42"],
    [
      "missing alerts",
      { receiver: "x", status: "firing" },
      'body is not an Alertmanager webhook: "alerts" must be an array, but it is missing',
    ],
    ["alerts an object", webhook({ alerts: {} }), 'body is not an Alertmanager webhook: "alerts" must be an array, got an object'],
    ["alerts null", webhook({ alerts: null }), 'body is not an Alertmanager webhook: "alerts" must be an array, got null'],
    ["empty alerts", webhook({ alerts: [] }), 'body has no alerts: "alerts" is an empty array, so there is nothing to show'],
    ["alert null", webhook({ alerts: [alert(), null] }), "alerts[1] must be an object, got null"],
    ["alert a string", webhook({ alerts: ["DiskFull"] }), 'alerts[0] must be an object, got "DiskFull"'],
    ["alert an array", webhook({ alerts: [[alert()]] }), "alerts[0] must be an object, got an array"],
    ["labels missing", oneAlert({ labels: undefined }), "alerts[0].labels is missing"],
    ["labels null", oneAlert({ labels: null }), "alerts[0].labels must be an object of strings, got null"],
    ["labels an array", oneAlert({ labels: ["alertname"] }), "alerts[0].labels must be an object of strings, got an array"],
    ["alertname missing", oneAlert({ labels: { severity: "warning" } }), "alerts[0].labels.alertname is missing"],
    ["alertname empty", oneAlert({ labels: { alertname: "" } }), "alerts[0].labels.alertname is empty"],
    [
      "label value an object",
      oneAlert({ labels: { alertname: "X", instance: { host: "nas" } } }),
      "alerts[0].labels.instance must be a string, got an object",
    ],
    [
      "label value an array",
      oneAlert({ labels: { alertname: "X", "team.name": ["ops"] } }),
      'alerts[0].labels["team.name"] must be a string, got an array',
    ],
    ["label value null", oneAlert({ labels: { alertname: null } }), "alerts[0].labels.alertname must be a string, got null"],
    [
      "annotation value an object",
      oneAlert({ annotations: { summary: { text: "x" } } }),
      "alerts[0].annotations.summary must be a string, got an object",
    ],
    ["annotations a string", oneAlert({ annotations: "Disk is full" }), 'alerts[0].annotations must be an object of strings, got "Disk is full"'],
    ["startsAt missing", oneAlert({ startsAt: undefined }), "alerts[0].startsAt is missing"],
    ["startsAt empty", oneAlert({ startsAt: "" }), "alerts[0].startsAt is missing"],
    ["startsAt garbage", webhook({ alerts: [alert(), alert(), alert({ startsAt: "yesterday" })] }), 'alerts[2].startsAt is not an RFC 3339 time: "yesterday"'],
    ["startsAt a number", oneAlert({ startsAt: 1763458872345 }), "alerts[0].startsAt is not an RFC 3339 time: 1763458872345"],
    ["startsAt without zone", oneAlert({ startsAt: "2025-11-18T09:41:12" }), 'alerts[0].startsAt is not an RFC 3339 time: "2025-11-18T09:41:12"'],
    ["startsAt 30 February", oneAlert({ startsAt: "2024-02-30T00:00:00Z" }), 'alerts[0].startsAt is not an RFC 3339 time: "2024-02-30T00:00:00Z"'],
    ["startsAt hour 24", oneAlert({ startsAt: "2024-01-01T24:00:00Z" }), 'alerts[0].startsAt is not an RFC 3339 time: "2024-01-01T24:00:00Z"'],
    ["startsAt leap second", oneAlert({ startsAt: "2016-12-31T23:59:60Z" }), 'alerts[0].startsAt is not an RFC 3339 time: "2016-12-31T23:59:60Z"'],
    ["startsAt bad offset", oneAlert({ startsAt: "2024-01-01T00:00:00+0500" }), 'alerts[0].startsAt is not an RFC 3339 time: "2024-01-01T00:00:00+0500"'],
    ["startsAt empty fraction", oneAlert({ startsAt: "2024-01-01T00:00:00.Z" }), 'alerts[0].startsAt is not an RFC 3339 time: "2024-01-01T00:00:00.Z"'],
    [
      "startsAt the zero time",
      oneAlert({ startsAt: "0001-01-01T00:00:00Z" }),
      'alerts[0].startsAt is the zero time "0001-01-01T00:00:00Z"; an alert needs a real start time',
    ],
    ["endsAt garbage", oneAlert({ endsAt: "soon" }), 'alerts[0].endsAt is not an RFC 3339 time: "soon"'],
    ["endsAt an object", oneAlert({ endsAt: {} }), "alerts[0].endsAt is not an RFC 3339 time: an object"],
    ["alert status unknown", oneAlert({ status: "pending" }), 'alerts[0].status must be "firing" or "resolved", got "pending"'],
    ["alert status a number", oneAlert({ status: 1 }), 'alerts[0].status must be "firing" or "resolved", got 1'],
    ["group status unknown", webhook({ status: "FIRING" }), 'status must be "firing" or "resolved", got "FIRING"'],
    ["truncatedAlerts negative", webhook({ truncatedAlerts: -1 }), "truncatedAlerts must be a whole number >= 0, got -1"],
    ["truncatedAlerts fractional", webhook({ truncatedAlerts: 1.5 }), "truncatedAlerts must be a whole number >= 0, got 1.5"],
    ["truncatedAlerts a string", webhook({ truncatedAlerts: "3" }), 'truncatedAlerts must be a whole number >= 0, got "3"'],
    ["receiver a number", webhook({ receiver: 7 }), "receiver must be a string, got 7"],
    ["groupLabels an array", webhook({ groupLabels: ["alertname"] }), "groupLabels must be an object of strings, got an array"],
    ["commonLabels value an object", webhook({ commonLabels: { job: {} } }), "commonLabels.job must be a string, got an object"],
    ["commonAnnotations value an array", webhook({ commonAnnotations: { summary: [] } }), "commonAnnotations.summary must be a string, got an array"],
  ])("%s", (_name, body, reason) => {
    expect(reasonFor(body)).toBe(reason);
  });

  it("shortens long offending values", () => {
    expect(reasonFor(oneAlert({ startsAt: "x".repeat(500) }))).toBe(`alerts[0].startsAt is not an RFC 3339 time: "${"x".repeat(60)}…"`);
  });

  it("lists the first three problems in the message and all of them in details", () => {
    const body = webhook({
      status: "unknown",
      alerts: [alert({ labels: {} }), alert({ startsAt: "later" }), alert({ status: "x" }), alert({ endsAt: "never" })],
    });
    let caught: unknown;
    try {
      parse(body);
    } catch (error) {
      caught = error;
    }
    expect(isAppError(caught, "invalid_payload")).toBe(true);
    const error = caught as { message: string; details?: { problems: string[] } };
    expect(error.message).toBe(
      'status must be "firing" or "resolved", got "unknown"; alerts[0].labels.alertname is missing; ' +
        'alerts[1].startsAt is not an RFC 3339 time: "later"; and 2 more problems',
    );
    expect(error.details?.problems).toEqual([
      'status must be "firing" or "resolved", got "unknown"',
      "alerts[0].labels.alertname is missing",
      'alerts[1].startsAt is not an RFC 3339 time: "later"',
      'alerts[2].status must be "firing" or "resolved", got "x"',
      'alerts[3].endsAt is not an RFC 3339 time: "never"',
    ]);
  });

  it(`refuses more than ${maxAlertsPerWebhook} alerts before looking at any of them`, () => {
    const alerts = new Array(maxAlertsPerWebhook + 1).fill(null);
    expect(reasonFor(webhook({ alerts }))).toBe(
      "body has 10001 alerts, more than the 10000 accepted in one webhook; set max_alerts on the Alertmanager webhook receiver",
    );
  });

  it(`accepts exactly ${maxAlertsPerWebhook} alerts, computing their fingerprints in reasonable time`, () => {
    const alerts = Array.from({ length: maxAlertsPerWebhook }, (_, i) =>
      alert({ fingerprint: undefined, labels: { alertname: "TargetDown", instance: `host-${i}:9100`, job: "node", severity: "warning" } }),
    );
    const started = performance.now();
    const signal = parse(webhook({ alerts }));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(signal.alerts).toHaveLength(maxAlertsPerWebhook);
    expect(new Set(signal.alerts.map((a) => a.fingerprint)).size).toBe(maxAlertsPerWebhook);
  });
});

// ---- tolerated oddities -----------------------------------------------------------------------

describe("parseAlertmanager tolerates odd senders", () => {
  it("parses a clean version 4 body without warnings", () => {
    const signal = parse(webhook());
    expect(signal.warnings).toEqual([]);
    expect(signal.alerts[0]).toEqual({
      fingerprint: "0123456789abcdef",
      fingerprintComputed: false,
      dedupeKey: "alertmanager:0123456789abcdef:2025-11-18T09:41:12.345Z",
      status: "firing",
      startsAt: new Date("2025-11-18T09:41:12.345Z"),
      endsAt: null,
      alertname: "DiskFull",
      severity: "warning",
      labels: { alertname: "DiskFull", instance: "nas:9100", severity: "warning" },
      annotations: { summary: "Disk is full" },
      generatorUrl: "http://prometheus:9090/graph?g0.expr=up&g0.tab=1",
    });
  });

  it("ignores unknown fields on the body and on alerts", () => {
    const signal = parse(
      webhook({
        numFiring: 1,
        numResolved: 0,
        routeLabels: { team: "ops" },
        notification_reason: "repeat interval elapsed",
        alerts: [alert({ sendsAt: "", silencedBy: [], extra: { nested: true } })],
      }),
    );
    expect(signal.warnings).toEqual([]);
    expect(signal.notificationReason).toBe("repeat interval elapsed");
    expect(signal.alerts[0]).not.toHaveProperty("sendsAt");
  });

  it("keeps numbers and booleans in labels and annotations as strings, with a warning", () => {
    const signal = parse(
      webhook({
        alerts: [alert({ labels: { alertname: "Load", code: 503, paged: true }, annotations: { value: 122 }, fingerprint: undefined })],
        commonLabels: { code: 503 },
      }),
    );
    const [a] = signal.alerts;
    expect(a!.labels).toEqual({ alertname: "Load", code: "503", paged: "true" });
    expect(a!.annotations).toEqual({ value: "122" });
    expect(a!.fingerprint).toBe(labelsFingerprint({ alertname: "Load", code: "503", paged: "true" }));
    expect(signal.commonLabels).toEqual({ code: "503" });
    expect(signal.warnings).toEqual([
      "fingerprint missing in 1 of 1 alert (alerts[0]); computed from the labels as Alertmanager does",
      "4 values were numbers or booleans and are kept as strings " +
        "(alerts[0].labels.code, alerts[0].labels.paged, alerts[0].annotations.value, commonLabels.code)",
    ]);
  });

  it("keeps a label named __proto__ as a label, without touching the prototype", () => {
    const body: unknown = JSON.parse(
      JSON.stringify(webhook()).replace('"alertname":"DiskFull","instance"', '"alertname":"DiskFull","__proto__":"x","instance"'),
    );
    const signal = parse(body);
    const labels = signal.alerts[0]!.labels;
    expect(Object.hasOwn(labels, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(Object.keys(labels)).toEqual(["alertname", "__proto__", "instance", "severity"]);
  });

  it("treats null maps as empty (Go encodes nil maps as null)", () => {
    const signal = parse(webhook({ groupLabels: null, commonLabels: null, commonAnnotations: null, alerts: [alert({ annotations: null })] }));
    expect(signal.commonLabels).toEqual({});
    expect(signal.commonAnnotations).toEqual({});
    expect(signal.alerts[0]!.annotations).toEqual({});
    expect(signal.groupLabels).toEqual({});
  });

  it("defaults what old senders leave out", () => {
    const body = webhook();
    for (const key of ["truncatedAlerts", "externalURL", "version", "receiver"]) delete body[key];
    const signal = parse({ ...body, alerts: [alert({ generatorURL: undefined, annotations: undefined })] });
    expect(signal.truncatedAlerts).toBe(0);
    expect(signal.externalUrl).toBeNull();
    expect(signal.version).toBe("");
    expect(signal.receiver).toBe("");
    expect(signal.notificationReason).toBeNull();
    expect(signal.alerts[0]!.generatorUrl).toBeNull();
    expect(signal.alerts[0]!.annotations).toEqual({});
    expect(signal.warnings).toEqual(['receiver is missing; using ""', "version is missing; read as version 4"]);
  });

  it("accepts a numeric version 4 silently and turns wrongly typed display fields into null with a warning", () => {
    const signal = parse(
      webhook({ version: 4, externalURL: 9093, notification_reason: { text: "x" }, alerts: [alert({ generatorURL: false })] }),
    );
    expect(signal.version).toBe("4");
    expect(signal.externalUrl).toBeNull();
    expect(signal.notificationReason).toBeNull();
    expect(signal.alerts[0]!.generatorUrl).toBeNull();
    expect(signal.warnings).toEqual([
      "generatorURL is not a string in alerts[0]; ignored",
      "externalURL is not a string (got 9093); ignored",
      "notification_reason is not a string (got an object); ignored",
    ]);
  });

  it("keeps an escaped receiver name as sent: it is an identity", () => {
    const signal = parse(JSON.parse(JSON.stringify(webhook({ receiver: "team\\.ops" }))));
    expect(signal.receiver).toBe("team\\.ops");
  });

  describe("group identity", () => {
    const groupLabels = { namespace: "payments", alertname: "KubePodCrashLooping" };
    const expectedKey = 'derived:Default:{alertname="KubePodCrashLooping", namespace="payments"}';

    it.each<[string, unknown, string]>([
      ["absent", undefined, "groupKey is missing"],
      ["empty", "", "groupKey is empty"],
      ["zero", 0, `groupKey is a number, not Alertmanager's "<route>:<group labels>" string (legacy senders send a hash or 0)`],
      ["a huge number", JSON.parse("43434343434343434343"), `groupKey is a number, not Alertmanager's "<route>:<group labels>" string (legacy senders send a hash or 0)`],
      ["an object", { key: 1 }, "groupKey is not a string (got an object)"],
    ])("derives a key when groupKey is %s", (_name, groupKey, oddity) => {
      const signal = parse(webhook({ receiver: "Default", groupKey, groupLabels }));
      expect(signal.groupKey).toBe(expectedKey);
      expect(signal.warnings).toEqual([`${oddity}; derived ${JSON.stringify(expectedKey)} from receiver and groupLabels`]);
    });

    it("derives the same key whatever the order of the group labels", () => {
      const a = parse(webhook({ receiver: "Default", groupKey: 0, groupLabels }));
      const b = parse(webhook({ receiver: "Default", groupKey: 0, groupLabels: { alertname: "KubePodCrashLooping", namespace: "payments" } }));
      expect(a.groupKey).toBe(b.groupKey);
    });

    it("derives different keys for different groups of a sender that sends 0 for all of them", () => {
      const a = parse(webhook({ receiver: "Default", groupKey: 0, groupLabels: { namespace: "payments" } }));
      const b = parse(webhook({ receiver: "Default", groupKey: 0, groupLabels: { namespace: "checkout" } }));
      const c = parse(webhook({ receiver: "Critical", groupKey: 0, groupLabels: { namespace: "payments" } }));
      expect(new Set([a.groupKey, b.groupKey, c.groupKey]).size).toBe(3);
    });

    it("quotes label values so a value cannot imitate another label", () => {
      const a = parse(webhook({ groupKey: "", groupLabels: { a: 'x", b="y' } }));
      const b = parse(webhook({ groupKey: "", groupLabels: { a: "x", b: "y" } }));
      expect(a.groupKey).toBe('derived:telegram:{a="x\\", b=\\"y"}');
      expect(a.groupKey).not.toBe(b.groupKey);
    });

    it("uses a sent groupKey verbatim", () => {
      expect(parse(webhook({ groupKey: '{}/{severity="critical"}:{namespace="monitoring"}' })).groupKey).toBe(
        '{}/{severity="critical"}:{namespace="monitoring"}',
      );
    });
  });

  describe("statuses", () => {
    it("lets each alert's status win over the group's", () => {
      const signal = parse(
        webhook({
          status: "firing",
          alerts: [alert(), alert({ status: "resolved", endsAt: "2025-11-18T10:00:00Z", fingerprint: "fedcba9876543210" })],
        }),
      );
      expect(signal.status).toBe("firing");
      expect(signal.alerts.map((a) => a.status)).toEqual(["firing", "resolved"]);
      expect(signal.alerts[1]!.endsAt).toEqual(new Date("2025-11-18T10:00:00Z"));
    });

    it("keeps a sent group status that contradicts its alerts, with a warning", () => {
      const signal = parse(webhook({ status: "resolved" }));
      expect(signal.status).toBe("resolved");
      expect(signal.alerts[0]!.status).toBe("firing");
      expect(signal.warnings).toEqual([`status is "resolved" but 1 of 1 alert is firing; each alert's own status is what counts`]);
    });

    it.each<[string, unknown, "firing" | "resolved", string | null]>([
      ["absent", undefined, "firing", null],
      ["null", null, "firing", null],
      ["empty", "", "firing", null],
      ["the zero time", "0001-01-01T00:00:00Z", "firing", null],
      ["the zero time with an offset", "0000-12-31T19:00:00-05:00", "firing", null],
      ["in the future", "2026-01-01T00:05:00Z", "firing", null],
      ["exactly now", "2026-01-01T00:00:00Z", "resolved", "2026-01-01T00:00:00.000Z"],
      ["in the past", "2025-12-31T23:55:00+01:00", "resolved", "2025-12-31T22:55:00.000Z"],
    ])("derives a missing alert status from endsAt %s", (_name, endsAt, status, endsAtIso) => {
      const signal = parse(webhook({ status: undefined, alerts: [alert({ status: undefined, endsAt })] }));
      expect(signal.alerts[0]!.status).toBe(status);
      expect(signal.alerts[0]!.endsAt?.toISOString() ?? null).toBe(endsAtIso);
      expect(signal.status).toBe(status);
      expect(signal.warnings).toEqual([
        "status missing in 1 of 1 alert (alerts[0]); derived from endsAt",
        `status is missing; derived "${status}" from the alerts`,
      ]);
    });

    it("judges endsAt against the given time", () => {
      const body = webhook({ alerts: [alert({ status: undefined, endsAt: "2025-06-01T00:00:00Z" })] });
      expect(parseAlertmanager(body, { now: new Date("2025-05-31T23:59:59Z") }).alerts[0]!.status).toBe("firing");
      expect(parseAlertmanager(body, { now: new Date("2025-06-01T00:00:01Z") }).alerts[0]!.status).toBe("resolved");
    });

    it("derives a missing group status: firing if any alert fires, else resolved", () => {
      const mixed = parse(webhook({ status: undefined, alerts: [alert({ status: "resolved", endsAt: "2025-11-18T10:00:00Z" }), alert()] }));
      expect(mixed.status).toBe("firing");
      const allResolved = parse(webhook({ status: null, alerts: [alert({ status: "resolved", endsAt: "2025-11-18T10:00:00Z" })] }));
      expect(allResolved.status).toBe("resolved");
      expect(allResolved.warnings).toEqual(['status is missing; derived "resolved" from the alerts']);
    });

    it("gives a firing alert no end time, even when an old Alertmanager sent its estimate", () => {
      const signal = parse(webhook({ alerts: [alert({ endsAt: "2025-11-18T09:46:12.345Z" })] }));
      expect(signal.alerts[0]!.status).toBe("firing");
      expect(signal.alerts[0]!.endsAt).toBeNull();
    });

    it("keeps a resolved alert resolved when its endsAt is the zero time, with no end time", () => {
      const signal = parse(webhook({ status: "resolved", alerts: [alert({ status: "resolved" })] }));
      expect(signal.alerts[0]!.status).toBe("resolved");
      expect(signal.alerts[0]!.endsAt).toBeNull();
      expect(signal.warnings).toEqual([]);
    });
  });

  describe("times", () => {
    it.each<[string, string]>([
      ["2020-02-06T00:17:58.432911368Z", "2020-02-06T00:17:58.432Z"],
      ["2020-02-06T00:17:58.999999999Z", "2020-02-06T00:17:58.999Z"], // truncated, never rounded into the next second
      ["2020-02-06T00:17:58.5Z", "2020-02-06T00:17:58.500Z"],
      ["2020-02-06T00:17:58Z", "2020-02-06T00:17:58.000Z"],
      ["2020-02-06t00:17:58z", "2020-02-06T00:17:58.000Z"],
      ["2018-03-07T06:33:21.873077559-05:00", "2018-03-07T11:33:21.873Z"],
      ["2020-02-06T05:47:58+05:30", "2020-02-06T00:17:58.000Z"],
      ["2024-02-29T23:59:59.1-00:00", "2024-02-29T23:59:59.100Z"],
      ["0099-06-01T00:00:00Z", "0099-06-01T00:00:00.000Z"],
    ])("reads %s as %s", (startsAt, iso) => {
      const signal = parse(webhook({ alerts: [alert({ startsAt })] }));
      expect(signal.alerts[0]!.startsAt.toISOString()).toBe(iso);
      expect(signal.alerts[0]!.dedupeKey).toBe(`alertmanager:0123456789abcdef:${iso}`);
    });

    it("gives the same dedupe key to the same instant written in different offsets", () => {
      const a = parse(webhook({ alerts: [alert({ startsAt: "2018-03-07T06:33:21.873077559-05:00" })] }));
      const b = parse(webhook({ alerts: [alert({ startsAt: "2018-03-07T11:33:21.873Z" })] }));
      expect(a.alerts[0]!.dedupeKey).toBe(b.alerts[0]!.dedupeKey);
    });
  });

  describe("fingerprints", () => {
    it("lowercases a sent fingerprint", () => {
      const signal = parse(webhook({ alerts: [alert({ fingerprint: "5CE48A9179749F3B" })] }));
      expect(signal.alerts[0]!.fingerprint).toBe("5ce48a9179749f3b");
      expect(signal.alerts[0]!.fingerprintComputed).toBe(false);
    });

    it.each<[string, unknown]>([
      ["too short", "5ce48a9179749f3"],
      ["not hex", "5ce48a9179749f3g"],
      ["a number", 1234567890123456],
    ])("computes the fingerprint when the sent one is %s", (_name, fingerprint) => {
      const signal = parse(webhook({ alerts: [alert({ fingerprint })] }));
      const labels = { alertname: "DiskFull", instance: "nas:9100", severity: "warning" };
      expect(signal.alerts[0]!.fingerprint).toBe(labelsFingerprint(labels));
      expect(signal.alerts[0]!.fingerprintComputed).toBe(true);
      expect(signal.warnings).toEqual(["fingerprint is not 16 hex digits in alerts[0]; computed from the labels instead"]);
    });

    it("computes it when it is empty or absent", () => {
      const signal = parse(webhook({ alerts: [alert({ fingerprint: "" }), alert({ fingerprint: undefined }), alert()] }));
      expect(signal.alerts.map((a) => a.fingerprintComputed)).toEqual([true, true, false]);
      expect(signal.warnings).toEqual([
        "fingerprint missing in 2 of 3 alerts (alerts[0], alerts[1]); computed from the labels as Alertmanager does",
      ]);
    });
  });

  it("lowercases severity, and treats an empty one as none", () => {
    const labels = (severity?: string) => ({ alertname: "X", ...(severity === undefined ? {} : { severity }) });
    const signal = parse(
      webhook({ alerts: [alert({ labels: labels("Critical") }), alert({ labels: labels("") }), alert({ labels: labels() })] }),
    );
    expect(signal.alerts.map((a) => a.severity)).toEqual(["critical", null, null]);
    expect(signal.alerts[0]!.labels["severity"]).toBe("Critical");
  });

  it("reads Go's escaped ampersand in generatorURL as a plain one", () => {
    const raw = String.raw`{"receiver":"r","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{},"startsAt":"2025-11-18T09:41:12.345Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://p:9090/graph?g0.expr=up\u0026g0.tab=1","fingerprint":"0123456789abcdef"}],"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"","version":"4","groupKey":"{}:{}","truncatedAlerts":0}`;
    expect(raw).toContain("\\u0026");
    const signal = parse(JSON.parse(raw));
    expect(signal.alerts[0]!.generatorUrl).toBe("http://p:9090/graph?g0.expr=up&g0.tab=1");
    expect(signal.externalUrl).toBeNull();
  });
});
