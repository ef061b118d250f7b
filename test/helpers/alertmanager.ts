import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's package installs it as prometheus-alertmanager; upstream tarballs as alertmanager. */
export function alertmanagerBinary(): string {
  const candidates = [process.env.ALERTMANAGER_BIN, "/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager"];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found) {
    throw new Error(
      "No Alertmanager binary found. Install it (apt-get install prometheus-alertmanager; .ci/run does) or set ALERTMANAGER_BIN.",
    );
  }
  return found;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface RealAlertmanager {
  url: string;
  /** POST /api/v2/alerts, as Prometheus does. */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  /** GET /api/v2/silences */
  silences(): Promise<unknown[]>;
  stop(): Promise<void>;
  logs(): string;
}

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

/**
 * A real Alertmanager whose only receiver is our webhook, with the bearer token the service
 * expects. Grouping waits are one second so a test sees notifications quickly.
 */
export async function startAlertmanager(options: { webhookUrl: string; bearerToken: string; groupBy?: string[]; port?: number }): Promise<RealAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), "topicops-am-"));
  const port = options.port ?? (await freePort());
  const config = `
route:
  receiver: topicops
  group_by: ${JSON.stringify(options.groupBy ?? ["alertname", "namespace"])}
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: topicops
    webhook_configs:
      - url: ${JSON.stringify(options.webhookUrl)}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${JSON.stringify(options.bearerToken)}
`;
  writeFileSync(join(dir, "alertmanager.yml"), config);
  let output = "";
  const child: ChildProcess = spawn(
    alertmanagerBinary(),
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=info",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`alertmanager did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    logs: () => output,
    async postAlerts(alerts) {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(alerts),
      });
      if (!response.ok) throw new Error(`alertmanager refused alerts: ${response.status} ${await response.text()}`);
    },
    async silences() {
      return (await (await fetch(`${url}/api/v2/silences`)).json()) as unknown[];
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
