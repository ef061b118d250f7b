import { describe, expect, it } from "vitest";
import { configVariables, loadConfig } from "../src/config.ts";
import { isAppError } from "../src/errors.ts";

const valid = {
  TELEGRAM_BOT_TOKEN: "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345",
  TELEGRAM_CHAT_ID: "-1001234567890",
  HOOK_TOKEN: "0123456789abcdef0123",
};

function problems(env: Record<string, string | undefined>, requirements: ("telegram" | "hooks")[] = ["telegram", "hooks"]): string {
  try {
    loadConfig(env, requirements);
  } catch (error) {
    if (isAppError(error, "config")) return error.message;
    throw error;
  }
  return "";
}

describe("configuration from the environment", () => {
  it("has defaults for everything but the secrets", () => {
    const config = loadConfig(valid, ["telegram", "hooks"]);
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: "postgres://127.0.0.1:5432/topicops",
      redisUrl: "redis://127.0.0.1:6379",
      telegramApiRoot: "https://api.telegram.org",
      telegramChatId: -1001234567890,
      telegramRatePerMinute: 20,
      topicsDir: "./topics",
      runbooksDir: "./runbooks",
      approverIds: [],
      publicUrl: undefined,
    });
  });

  it("lists every missing or malformed variable in one message, without echoing secrets", () => {
    const message = problems({
      PORT: "http",
      TELEGRAM_CHAT_ID: "12345",
      REDIS_URL: "localhost:6379",
      APPROVER_IDS: "12, bob",
      HOOK_TOKEN: "short secret!",
      LOG_LEVEL: "loud",
    });
    expect(message.split("\n")).toEqual([
      "Configuration is invalid:",
      '  - PORT must be a whole number (got "http")',
      "  - REDIS_URL must be a URL (redis or rediss) (got \"localhost:6379\")",
      '  - TELEGRAM_CHAT_ID must be the negative id of the forum supergroup, e.g. -1001234567890 (got "12345")',
      "  - HOOK_TOKEN must be at least 16 characters of A-Z a-z 0-9 . _ ~ + / - (try: openssl rand -hex 32)",
      '  - APPROVER_IDS must be comma-separated Telegram user ids, e.g. 123,456 (got "12, bob")',
      '  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      "  - TELEGRAM_BOT_TOKEN is required",
    ]);
    expect(message).not.toContain("short secret!");
  });

  it("needs the webhook secret when PUBLIC_URL is set", () => {
    expect(problems({ ...valid, PUBLIC_URL: "https://bot.example.net/" })).toContain("TELEGRAM_WEBHOOK_SECRET is required when PUBLIC_URL is set");
    const config = loadConfig({ ...valid, PUBLIC_URL: "https://bot.example.net/", TELEGRAM_WEBHOOK_SECRET: "abc_DEF-123" }, ["telegram"]);
    expect(config.publicUrl).toBe("https://bot.example.net");
  });

  it("treats empty variables as unset and parses lists", () => {
    const config = loadConfig({ ...valid, PORT: "", APPROVER_IDS: " 11, 22 ,33" }, ["telegram", "hooks"]);
    expect(config.port).toBe(8080);
    expect(config.approverIds).toEqual([11, 22, 33]);
  });

  it("migrate needs no Telegram settings", () => {
    expect(() => loadConfig({}, [])).not.toThrow();
  });

  it("documents every variable in the README", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const name of configVariables) expect(readme, name).toContain(`\`${name}\``);
  });
});
