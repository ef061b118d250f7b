import { describe, expect, it } from "vitest";
import { describeStatuses, displayArgv, humanDuration, shellQuote, shortCommand } from "../../src/agent/display.ts";
import { cleanText, createOutputCapture, createRedactor } from "../../src/agent/output.ts";
import { range } from "./support.ts";

describe("redaction", () => {
  const secret = 'tok/en+"42"\\x';
  const redactor = createRedactor([secret, undefined, ""]);

  it("hides a secret as is, URL-encoded, and escaped in JSON at any depth", () => {
    const once = JSON.stringify(secret);
    const twice = JSON.stringify(once);
    const text = [secret, encodeURIComponent(secret), encodeURIComponent(secret).toLowerCase(), once, twice, JSON.stringify({ body: twice })].join(" | ");
    const out = redactor.redact(text);
    expect(out).not.toContain("tok");
    expect(out).not.toContain("en+");
    expect(out.split("[redacted]").length - 1).toBe(6);
  });

  it("hides a secret written with \\u escapes, and leaves other text alone", () => {
    const plain = createRedactor(["hunter2"]);
    expect(plain.redact('{"password":"\\u0068unter2","user":"alice"}')).toBe('{"password":"[redacted]","user":"alice"}');
    expect(plain.redact("nothing to see")).toBe("nothing to see");
    expect(createRedactor([]).redact("a\\b")).toBe("a\\b");
  });
});

describe("output capture", () => {
  it("keeps small output whole, without colours or carriage returns", () => {
    const capture = createOutputCapture({ maxBytes: 100 });
    capture.write("\n\n\u001b[32mgreen\u001b[0m\r\nprogress 10%\rprogress 100%\n   \n");
    expect(capture.text()).toBe("green\nprogress 10%\nprogress 100%");
    expect(cleanText("a\u0007b\u001b]0;title\u0007c")).toBe("abc");
  });

  it("keeps the head and tail of large output, in bounded memory, without splitting a character", () => {
    const capture = createOutputCapture({ maxBytes: 20 });
    capture.write("é".repeat(10_000));
    const text = capture.text();
    expect(text).toMatch(/^é{5}\n… 19980 bytes omitted …\né{5}$/);
    expect(capture.totalBytes).toBe(20_000);
  });

  it("never shows part of a secret cut by the omitted middle", () => {
    const secret = "S3CRET-TOKEN-VALUE";
    for (let offset = 0; offset < 40; offset++) {
      const capture = createOutputCapture({ maxBytes: 40, redactor: createRedactor([secret]) });
      for (const c of `${"a".repeat(offset)}${secret}${"b".repeat(100)}${secret}${"c".repeat(offset)}`) capture.write(c);
      const text = capture.text();
      for (let len = 3; len <= secret.length; len++) {
        for (let at = 0; at + len <= secret.length; at++) {
          const part = secret.slice(at, at + len);
          // "TOK", "VAL", … must not appear; "[redacted]" is what a reader sees instead.
          expect(text.includes(part), `offset ${offset}: ${JSON.stringify(text)} shows ${part}`).toBe(false);
        }
      }
    }
  });
});

describe("display", () => {
  it("quotes arguments the way a shell would need them, for reading only", () => {
    expect(shellQuote("deployment/web")).toBe("deployment/web");
    expect(shellQuote("--timeout=5m")).toBe("--timeout=5m");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("$(id)")).toBe("'$(id)'");
    expect(shellQuote("a\nb")).toBe("$'a\\nb'");
    expect(shellQuote("p\u0430yments")).toBe("$'p\\u0430yments'");
    expect(displayArgv(["kubectl", "get", '--output=jsonpath={.name}{"\\t"}'])).toBe(`kubectl get '--output=jsonpath={.name}{"\\t"}'`);
    expect(shortCommand(["kubectl", "rollout", "restart", "deployment/payments-api", "--namespace", "payments"])).toBe("kubectl rollout restart …");
  });

  it("says durations and status codes the way a person would", () => {
    expect([0, 140, 999, 1000, 1240, 9960, 45_000, 125_000, 3_600_000].map(humanDuration)).toEqual(["0ms", "140ms", "999ms", "1s", "1.2s", "10s", "45s", "2m5s", "1h"]);
    expect(describeStatuses(range(200, 299))).toBe("2xx");
    expect(describeStatuses([200, 202])).toBe("200, 202");
    expect(describeStatuses([...range(200, 299), 304])).toBe("2xx, 304");
  });
});
