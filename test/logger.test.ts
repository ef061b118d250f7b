import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

describe("logs never carry a secret", () => {
  const token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345";
  const hook = "0123456789abcdef-hook";

  it("scrubs known secret values from messages, errors and nested fields, and redacts secret-named fields", () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: "info", secrets: [token, hook], destination });
    logger.info(`calling https://api.telegram.org/bot${token}/sendMessage`);
    logger.error({ err: new Error(`request to /bot${token}/getMe failed`) }, "telegram failed");
    logger.warn({ headers: { authorization: `Bearer ${hook}` }, config: { telegramBotToken: token }, token: "x" }, "request");
    logger.error(new Error(`boom ${hook}`));
    const out = lines.join("");
    expect(lines).toHaveLength(4);
    expect(out).not.toContain(token);
    expect(out).not.toContain(hook);
    expect(out).toContain("[redacted]");
    expect(JSON.parse(lines[2]!)).toMatchObject({ headers: { authorization: "[redacted]" }, config: { telegramBotToken: "[redacted]" } });
  });
});
