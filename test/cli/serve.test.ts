import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../bin/topicops.js", import.meta.url));

/** Runs `topicops …` in an empty directory (no .env) and returns how it ended. */
async function topicops(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const cwd = await mkdtemp(path.join(tmpdir(), "topicops-cli-"));
  try {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    return { code, output };
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

const telegram = {
  TELEGRAM_BOT_TOKEN: "123456:TEST-fake-token-abcdefghijklmnop",
  TELEGRAM_CHAT_ID: "-1001234567890",
  TELEGRAM_API_ROOT: "http://127.0.0.1:9",
  HOOK_TOKEN: "0123456789abcdef0123",
  LOG_LEVEL: "silent",
};

describe("topicops serve refuses to start half-way, and exits", () => {
  it("with the configuration problems listed, exit code 2", async () => {
    const result = await topicops(["serve"], { PORT: "http" });
    expect(result.code).toBe(2);
    expect(result.output).toContain("PORT must be a whole number");
    expect(result.output).toContain("TELEGRAM_BOT_TOKEN is required");
  });

  it("with every problem in the topics files, by file and line, exit code 2", async () => {
    const topics = await mkdtemp(path.join(tmpdir(), "topicops-topics-"));
    await writeFile(path.join(topics, "inbox.yaml"), 'name: "Inbox"\ndefault: true\nicon_color: purple\n');
    const result = await topicops(["serve"], { ...telegram, TOPICS_DIR: topics });
    await rm(topics, { recursive: true, force: true });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/inbox\.yaml:3:\d+: icon_color: /);
  });

  it("when Postgres cannot be reached: says so, exit code 1 (and does not hang)", async () => {
    const result = await topicops(["serve"], { ...telegram, DATABASE_URL: "postgres://127.0.0.1:1/topicops", TOPICS_DIR: fileURLToPath(new URL("../../topics", import.meta.url)) });
    expect(result.code).toBe(1);
    expect(result.output).toContain("Could not connect to Postgres at 127.0.0.1:1");
  });
});
