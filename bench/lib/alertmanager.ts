/**
 * Alertmanager v4 webhook payloads for load, shaped like
 * ../shared/fixtures/alertmanager/assembled-firing-kube-pod-crashlooping.json: the same label and
 * annotation sets and sizes, so the service parses, stores and renders what it would in production.
 * Everything is derived from numbers, so the same index always gives the same bytes (a redelivery
 * is the same body again) and nothing costly runs in the load generator's hot loop.
 */

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export interface BenchAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Zero time while firing, the real end once resolved. */
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface BenchGroup {
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: BenchAlert[];
}

/** What Alertmanager would send for a group: status and the common label/annotation sets derived. */
export function alertmanagerPayload(group: BenchGroup): Record<string, unknown> {
  return {
    receiver: group.receiver,
    status: group.alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    alerts: group.alerts,
    groupLabels: group.groupLabels,
    commonLabels: common(group.alerts.map((a) => a.labels)),
    commonAnnotations: common(group.alerts.map((a) => a.annotations)),
    externalURL: "http://alertmanager-main-0:9093",
    version: "4",
    groupKey: group.groupKey,
    truncatedAlerts: 0,
  };
}

function common(sets: readonly Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = sets;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((s) => s[k] === v)) out[k] = v;
  return out;
}

/** 16 hex digits, as Alertmanager's fingerprints are; unique per (salt, n). */
export function fingerprintOf(salt: number, n: number): string {
  return (salt >>> 0).toString(16).padStart(8, "0") + (n >>> 0).toString(16).padStart(8, "0");
}

// A cheap integer hash for names that look random but are reproducible.
function mix(n: number): number {
  let x = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const hex = (n: number, width: number) => mix(n).toString(16).padStart(8, "0").slice(0, width);
const base36 = (n: number, width: number) => mix(n).toString(36).padStart(7, "0").slice(0, width);

const GENERATOR_URL =
  "http://prometheus-k8s-0:9090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%7Breason%3D%22CrashLoopBackOff%22%2C+job%3D%22kube-state-metrics%22%7D%5B5m%5D%29+%3E%3D+1&g0.tab=1";

const CONTAINERS = ["api", "worker", "scheduler", "web", "consumer", "migrator", "sidecar", "exporter"];

export interface WorkloadAlertInput {
  /** Distinguishes alerts everywhere in a run: pod names, uids and the fingerprint derive from it. */
  n: number;
  salt: number;
  alertname: string;
  namespace: string;
  severity: string;
  startsAt: string;
  /** Set to resolve the alert: its real end time. */
  endsAt?: string;
  extraLabels?: Record<string, string>;
}

/** One alert like the fixture's KubePodCrashLooping alerts (11 labels, 3 annotations). */
export function workloadAlert(input: WorkloadAlertInput): BenchAlert {
  const { n, namespace } = input;
  const container = CONTAINERS[n % CONTAINERS.length]!;
  const pod = `${namespace.slice(0, 20)}-${container}-${hex(n, 9)}${hex(n + 1, 1)}-${base36(n, 5)}`;
  return {
    status: input.endsAt ? "resolved" : "firing",
    labels: {
      alertname: input.alertname,
      container,
      instance: `10.244.${mix(n) % 8}.${mix(n + 7) % 250}:8443`,
      job: "kube-state-metrics",
      namespace,
      pod,
      prometheus: "monitoring/k8s",
      reason: "CrashLoopBackOff",
      severity: input.severity,
      uid: `${hex(n, 8)}-${hex(n + 1, 4)}-4${hex(n + 2, 3)}-9${hex(n + 3, 3)}-${hex(n + 4, 8)}${hex(n + 5, 4)}`,
      ...input.extraLabels,
    },
    annotations: {
      description: `Pod ${namespace}/${pod} (${container}) is in waiting state (reason: "CrashLoopBackOff") on cluster .`,
      runbook_url: `https://runbooks.prometheus-operator.dev/runbooks/kubernetes/${input.alertname.toLowerCase()}`,
      summary: "Pod is crash looping.",
    },
    startsAt: input.startsAt,
    endsAt: input.endsAt ?? ZERO_TIME,
    generatorURL: GENERATOR_URL,
    fingerprint: fingerprintOf(input.salt, n),
  };
}

export function groupKeyOf(labels: Record<string, string>): string {
  return `{}:{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;
}
