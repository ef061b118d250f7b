import { createServer, type Server } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InlineKeyboardButton } from "grammy/types";
import type { FakeMessage } from "../fake-telegram/index.ts";
import { startTestService, waitFor, type TestService } from "./service.ts";

export const SECRET = "webhook-secret_approvals_0123";
export const anna = { id: 284019371, first_name: "Anna", username: "apetrova" };
export const bob = { id: 391827364, first_name: "Bob", username: "bob_ops" };
export const eve = { id: 666000666, first_name: "Eve", username: "eve" };

/** A small HTTP service the runbooks act on: records what it was asked, and can be told to fail. */
export interface Target {
  url: string;
  requests: { method: string; path: string; apiKey: string | undefined }[];
  failRestarts: boolean;
  close(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  const target: Target = { url: "", requests: [], failRestarts: false, close: async () => {} };
  const server: Server = createServer((req, res) => {
    target.requests.push({ method: req.method ?? "", path: req.url ?? "", apiKey: req.headers["x-api-key"] as string | undefined });
    if (req.url?.startsWith("/restart/")) {
      res.writeHead(target.failRestarts ? 500 : 202).end(target.failRestarts ? "boom" : "restarting");
      return;
    }
    if (req.url?.startsWith("/health/")) {
      res.writeHead(200).end("ok");
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  target.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  target.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return target;
}

/** Runbooks for the tests: one low risk that calls the target and runs a real command, one high risk. */
export function writeRunbooks(targetUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), "topicops-approvals-"));
  const node = process.execPath;
  writeFileSync(
    join(dir, "restart-app.md"),
    `---
id: restart-app
title: Restart the app through its API
risk: low
match:
  alerts: [AppDown]
params:
  app:
    default: "{{ labels.app }}"
    pattern: "[a-z][a-z0-9-]{0,30}"
    description: Which app to restart.
steps:
  - name: Ask the app to restart
    http:
      method: POST
      url: "${targetUrl}/restart/{{ app }}"
      headers: { X-Api-Key: "{{ secret.APP_KEY }}" }
      expect_status: [202]
  - name: Note it
    run: ["${node}", "-e", "process.stdout.write('restarted ' + process.argv[1])", "{{ app }}"]
  - name: The app answers
    check:
      http: { url: "${targetUrl}/health/{{ app }}", expect_status: [200] }
      within: 10s
      every: 1s
---
# Restart the app through its API

Asks the app to restart and waits until it answers again.
`,
  );
  writeFileSync(
    join(dir, "drain-app.md"),
    `---
id: drain-app
title: Drain the app's node
risk: high
match:
  alerts: [AppNodeBroken]
params:
  app:
    default: "{{ labels.app }}"
    pattern: "[a-z][a-z0-9-]{0,30}"
steps:
  - run: ["${node}", "-e", "process.stdout.write('drained ' + process.argv[1])", "{{ app }}"]
---
# Drain the app's node
`,
  );
  return dir;
}

/** An Alertmanager notification for one alert, its own group (so every call is a new card). */
export function alertBody(alertname: string, app: string, extra: Record<string, string> = {}, status: "firing" | "resolved" = "firing"): string {
  const labels = { alertname, app, severity: "warning", ...extra };
  return JSON.stringify({
    receiver: "topicops",
    status,
    alerts: [
      {
        status,
        labels,
        annotations: { summary: `${app} is down`, description: `${app} stopped answering.` },
        startsAt: "2026-11-20T10:00:00.000Z",
        endsAt: status === "firing" ? "0001-01-01T00:00:00Z" : "2026-11-20T10:30:00.000Z",
        generatorURL: "http://prometheus:9090/graph",
      },
    ],
    groupLabels: { alertname, app },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    version: "4",
    groupKey: `{}:{alertname="${alertname}", app="${app}"}`,
    truncatedAlerts: 0,
  });
}

export function buttons(message: FakeMessage | undefined): InlineKeyboardButton.CallbackButton[] {
  const markup = message?.replyMarkup as { inline_keyboard?: InlineKeyboardButton[][] } | undefined;
  return (markup?.inline_keyboard ?? []).flat().filter((b): b is InlineKeyboardButton.CallbackButton => "callback_data" in b);
}

/** A person taps a button (found by the start of its text) on a message; returns what the bot answered. */
export async function press(t: TestService, user: typeof anna, message: FakeMessage, label: string): Promise<{ text: string | undefined; showAlert: boolean; status: number }> {
  const button = buttons(t.fake.message(message.messageId)).find((b) => b.text.startsWith(label));
  if (!button) throw new Error(`no "${label}" button on message ${message.messageId}: ${JSON.stringify(buttons(t.fake.message(message.messageId)).map((b) => b.text))}`);
  return pressData(t, user, message.messageId, button.callback_data);
}

export async function pressData(t: TestService, user: typeof anna, messageId: number, data: string) {
  const update = t.fake.callbackQuery({ from: user, messageId, data });
  const response = await postUpdate(t, update);
  const id = update.callback_query!.id;
  const answer = t.fake.callbackAnswers().find((a) => a.callbackQueryId === id);
  return { text: answer?.text, showAlert: answer?.showAlert ?? false, status: response.status };
}

export function postUpdate(t: TestService, update: unknown): Promise<Response> {
  return fetch(`${t.url}/telegram`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
    body: JSON.stringify(update),
  });
}

/** A person writes in a topic (through the webhook, as Telegram would deliver it). */
export async function say(t: TestService, user: typeof anna, text: string, threadId?: number): Promise<void> {
  const update = t.fake.userMessage({ from: user, text, ...(threadId !== undefined ? { threadId } : {}) });
  await postUpdate(t, update);
}

/**
 * The whole service in webhook mode with the test runbooks, Anna and Bob as approvers, the target
 * service, and the runbooks' secret: what the approval tests share.
 */
export async function startApprovalsService(env: Record<string, string> = {}): Promise<{ t: TestService; target: Target; stop(): Promise<void> }> {
  const target = await startTarget();
  process.env.TOPICOPS_SECRET_APP_KEY = "app-key-0123456789";
  const t = await startTestService({
    env: {
      PUBLIC_URL: "https://topicops.example.net",
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      APPROVER_IDS: `${anna.id},${bob.id}`,
      RUNBOOKS_DIR: writeRunbooks(target.url),
      EXEC_ALLOWLIST: process.execPath,
      ...env,
    },
    service: { telegramUpdates: true },
  });
  await waitFor(() => t.fake.topics().length >= 8);
  return {
    t,
    target,
    async stop() {
      await t.stop();
      await target.close();
      delete process.env.TOPICOPS_SECRET_APP_KEY;
    },
  };
}

/** The alert cards (not replies) in a topic for one app label. */
export function cardIn(t: TestService, threadId: number, app: string): FakeMessage | undefined {
  return t.fake.messages(undefined, threadId).find((m) => m.fromBot && m.text.includes(`app=${app}`) && !m.replyToMessageId);
}
