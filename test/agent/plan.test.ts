import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createExecutor } from "../../src/agent/executor.ts";
import { planExecution, type ExecutionPlan, type PlannedStep } from "../../src/agent/plan.ts";
import { matchesAlert } from "../../src/runbooks/format.ts";
import { loadRunbooks } from "../../src/runbooks/load.ts";
import { resolveParams, type AlertData } from "../../src/runbooks/template.ts";
import type { Runbook, RunbookLibrary } from "../../src/runbooks/types.ts";
import { parseAlertmanager } from "../../src/sources/alertmanager.ts";
import { fixtureJson, fixturePath } from "../helpers/shared.ts";
import { makeRunbook, nodeScript } from "./support.ts";

/** Every shipped runbook, rendered for a person to approve, without running anything. */

const shippedDir = join(import.meta.dirname, "../../runbooks");

let library: RunbookLibrary;
beforeAll(async () => {
  library = await loadRunbooks(shippedDir);
});

interface NamedAlert extends AlertData {
  where: string;
}

function fixtureAlerts(): NamedAlert[] {
  const files = readdirSync(fixturePath("alertmanager")).filter((f) => f.endsWith(".json")).sort();
  return files.flatMap((file) => {
    const group = parseAlertmanager(fixtureJson(`alertmanager/${file}`), { now: new Date("2025-11-18T10:00:00Z") });
    return group.alerts.map((alert, index) => ({ where: `${file}#${index}`, labels: alert.labels, annotations: alert.annotations }));
  });
}

/** Alerts like the ones these runbooks are written for, where the fixtures have none. */
const sampleAlerts: Record<string, Record<string, string>> = {
  "argocd-sync-app": { alertname: "ArgoCdAppOutOfSync", name: "payments" },
  "delete-failed-job": { alertname: "KubeJobFailed", namespace: "batch", job_name: "nightly-backup-28930140" },
  "drain-node": { alertname: "NodeRAIDDegraded", instance: "worker-3", pod: "node-exporter-9kq2x" },
  "free-disk-space-docker-host": { alertname: "NodeFilesystemSpaceFillingUp", instance: "nas", mountpoint: "/var/lib/docker", pod: "" },
  "renew-certificate": { alertname: "CertManagerCertExpirySoon", namespace: "ingress", name: "wildcard-example-com" },
  "restart-home-assistant": { alertname: "TargetDown", job: "home-assistant" },
  "restart-radarr": { alertname: "TargetDown", job: "radarr" },
  "restart-sonarr": { alertname: "TargetDown", job: "sonarr" },
  "restart-systemd-service": { alertname: "HostSystemdServiceCrashed", instance: "nas", name: "nginx.service" },
  "reload-prometheus-config": { alertname: "PrometheusBadConfig" },
  "uncordon-node": { alertname: "KubeNodeUnschedulable", node: "worker-3" },
};

/** What a person types with Modify for params with no default. */
const modify: Record<string, Record<string, string>> = {
  "raise-memory-limit": { deployment: "payments-api", memory: "768Mi" },
  "expand-pvc": { size: "20Gi" },
  "uncordon-node": { node: "worker-3" },
};

function plansFor(runbook: Runbook, alerts: readonly NamedAlert[]): Array<{ where: string; plan: ExecutionPlan }> {
  const matching = alerts.filter((alert) => runbook.match !== undefined && matchesAlert(runbook.match, alert.labels));
  const sources: NamedAlert[] = matching.length > 0 ? matching : [{ where: "sample", labels: sampleAlerts[runbook.id] ?? {}, annotations: {} }];
  return sources.map((alert) => {
    const resolved = resolveParams(runbook, alert, modify[runbook.id]);
    if ("error" in resolved) throw new Error(`${runbook.id} on ${alert.where}: ${resolved.error}`);
    return { where: alert.where, plan: planExecution(runbook, resolved.values) };
  });
}

function firstPlan(runbook: Runbook, alerts: readonly NamedAlert[]): ExecutionPlan {
  const first = plansFor(runbook, alerts)[0];
  if (!first) throw new Error(`no plan for ${runbook.id}`);
  return first.plan;
}

function rendered(step: PlannedStep): string[] {
  switch (step.type) {
    case "run":
      return step.argv;
    case "http":
      return [step.request.url, ...Object.values(step.request.headers), step.request.body ?? ""];
    case "wait":
      return [];
    case "check":
      return step.condition.kind === "prometheus" ? [step.condition.query] : [step.condition.request.url, ...Object.values(step.condition.request.headers)];
  }
}

describe("planning the shipped runbooks", () => {
  it("renders every step of every runbook, from real alerts or obvious samples, with nothing left to fill in", () => {
    const alerts = fixtureAlerts();
    const planned = new Set<string>();
    let steps = 0;
    for (const runbook of library.runbooks) {
      for (const { where, plan } of plansFor(runbook, alerts)) {
        const at = `${runbook.id} on ${where}`;
        expect(plan.problems, at).toEqual([]);
        expect(plan.steps.map((s) => s.index), at).toEqual(runbook.steps.map((_, i) => i));
        for (const step of plan.steps) {
          expect(step.problem, at).toBeUndefined();
          expect(step.text.length, at).toBeGreaterThan(0);
          expect(step.text, at).not.toContain("{{");
          for (const text of rendered(step)) expect(text, at).not.toMatch(/\{\{\s*[a-z]/);
          steps++;
        }
        planned.add(runbook.id);
      }
    }
    expect([...planned].sort()).toEqual(library.runbooks.map((r) => r.id).sort());
    expect(planned.size).toBe(18);
    expect(steps).toBeGreaterThan(80);
  });

  it("shows a person exactly what will run", () => {
    const alert = fixtureAlerts().find((a) => a.where === "assembled-firing-partially-resolved-deployment-replicas.json#0")!;
    const plan = firstPlan(library.byId("restart-deployment")!, [alert]);
    expect(plan.steps.map((s) => s.text)).toEqual([
      "kubectl rollout restart deployment/checkout-frontend --namespace checkout",
      "kubectl rollout status deployment/checkout-frontend --namespace checkout --timeout=5m",
      'check prometheus: kube_deployment_status_replicas_available{namespace="checkout", deployment="checkout-frontend"} >= kube_deployment_spec_replicas{namespace="checkout", deployment="checkout-frontend"} is non-empty (within 3m, every 15s)',
    ]);
    expect(plan.steps[0]).toMatchObject({ type: "run", argv: ["kubectl", "rollout", "restart", "deployment/checkout-frontend", "--namespace", "checkout"], timeoutMs: 30_000 });
  });

  it("quotes arguments that a shell would split, for display only", () => {
    const alert = fixtureAlerts().find((a) => a.where === "assembled-firing-kube-pod-crashlooping.json#0")!;
    const plan = firstPlan(library.byId("raise-memory-limit")!, [alert]);
    expect(plan.steps[0]!.text).toBe(
      `kubectl get deployment/payments-api --namespace payments '--output=jsonpath={range .spec.template.spec.containers[*]}{.name}{"\\t"}{.resources}{"\\n"}{end}'`,
    );
  });

  it("shows where a secret goes without its value, and the waits and checks", () => {
    const plan = firstPlan(library.byId("restart-radarr")!, []);
    expect(plan.steps.map((s) => s.text)).toEqual([
      "POST http://radarr:7878/api/v3/system/restart (expect 2xx)",
      "wait 10s",
      'check http: GET http://radarr:7878/api/v3/system/status answers 2xx with "\\"version\\"" in the body (within 3m, every 10s)',
    ]);
    expect(plan.steps[0]).toMatchObject({ type: "http", request: { headers: { "X-Api-Key": "[secret RADARR_API_KEY]" } } });

    const ha = firstPlan(library.byId("restart-home-assistant")!, []);
    expect(ha.steps[0]).toMatchObject({ request: { body: "{}", headers: { Authorization: "Bearer [secret HOME_ASSISTANT_TOKEN]", "Content-Type": "application/json" } } });
  });

  it("marks a step whose value is refused, and shows it as written", () => {
    const runbook = library.byId("restart-crashlooping-pod")!;
    const plan = planExecution(runbook, { namespace: "payments", pod: "x; rm -rf /" });
    expect(plan.problems).toEqual(['param "pod": value "x; rm -rf /" does not match the param\'s pattern ^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$']);
    expect(plan.steps.map((s) => s.problem === undefined)).toEqual([false, false, false]);
    expect(plan.steps[1]!.text).toBe("kubectl delete pod '{{ pod }}' --namespace '{{ namespace }}' --wait=true --timeout=2m");
  });

  it("shows values the way they will reach the program: as one argument", () => {
    const runbook = makeRunbook([nodeScript("", ["{{ value }}"])], { value: "[\\s\\S]*" });
    const plan = planExecution(runbook, { value: "a b; $(id)\nc" });
    expect(plan.steps[0]!.text).toBe(`${process.execPath} -e '' -- $'a b; $(id)\\nc'`);
  });

  it("with this host's allowlist, names the tools that are missing before anyone approves", () => {
    const executor = createExecutor({ allowlist: ["kubectl"], secrets: () => undefined, env: { PATH: "/nonexistent" } });
    const plan = executor.preflight(library.byId("uncordon-node")!, { node: "worker-3" });
    expect(plan.problems).toEqual([
      "step 1 (Show the node's conditions): kubectl is allowlisted but was not found on PATH when the service started (/nonexistent); install it or allowlist its absolute path",
      "step 2 (Uncordon): kubectl is allowlisted but was not found on PATH when the service started (/nonexistent); install it or allowlist its absolute path",
    ]);
  });
});
