import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createExecutor } from "../../src/agent/executor.ts";
import { CHILD_ENV_PASSTHROUGH } from "../../src/agent/run-command.ts";
import { isAppError } from "../../src/errors.ts";
import { makeRunbook, node, nodeScript, run, testExecutor } from "./support.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "topicops-run-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("run steps", () => {
  it("run an allowlisted program by absolute path and by bare name, and say how it went", async () => {
    const executor = testExecutor();
    const result = await executor.execute({ runbook: makeRunbook([run(["/bin/echo", "hello", "world"]), run(["echo", "bare", "name"])]), values: {} });
    expect(result.status).toBe("succeeded");
    expect(result.steps.map((s) => [s.status, s.attempts, s.output])).toEqual([
      ["succeeded", 1, "hello world"],
      ["succeeded", 1, "bare name"],
    ]);
    expect(result.steps[0]!.summary).toMatch(/^\/bin\/echo hello world — exit 0 in \d+ms$/);
    expect(result.steps[0]!.name).toBe("run /bin/echo");
  });

  it("fail with the exit code, keeping what went to stderr", async () => {
    const executor = testExecutor();
    const result = await executor.execute({ runbook: makeRunbook([nodeScript("console.log('to stdout'); console.error('to stderr'); process.exit(3)"), run(["/bin/echo", "never"])]), values: {} });
    expect(result.status).toBe("failed");
    expect(result.failedStep).toBe(0);
    const [step, rest] = result.steps;
    expect(step).toMatchObject({ status: "failed", attempts: 1, error: "exit code 3" });
    expect(step!.summary).toMatch(/ — exit 3 in \d+(ms|\.\ds)$/);
    expect(step!.output).toContain("to stdout");
    expect(step!.output).toContain("to stderr");
    expect(rest).toMatchObject({ status: "skipped", attempts: 0 });
    expect(result.error).toBe("step 1 (run " + node + ") failed: exit code 3");
  });

  it("report a child killed by a signal", async () => {
    const result = await testExecutor().execute({ runbook: makeRunbook([nodeScript("process.kill(process.pid, 'SIGSEGV')")]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "killed by SIGSEGV" });
  });

  it("keep the head and the tail of a large output, saying how much was left out", async () => {
    const executor = testExecutor({ maxOutputBytes: 1000 });
    const script = "process.stdout.write('BEGIN\\n' + 'x'.repeat(200000) + '\\nEND\\n')";
    const result = await executor.execute({ runbook: makeRunbook([nodeScript(script)]), values: {} });
    const output = result.steps[0]!.output;
    expect(output.startsWith("BEGIN\n")).toBe(true);
    expect(output.endsWith("\nEND")).toBe(true);
    const omitted = /… (\d+) bytes omitted …/.exec(output);
    expect(Number(omitted?.[1])).toBe("BEGIN\n".length + 200000 + "\nEND\n".length - 1000);
    expect(Buffer.byteLength(output)).toBeLessThan(1100);
  });

  it("start children with stdin closed and in a working directory that is not the service's", async () => {
    const script = "let n = 0; process.stdin.on('data', (c) => n += c.length).on('end', () => console.log(JSON.stringify({ n, cwd: process.cwd() })))";
    const result = await testExecutor().execute({ runbook: makeRunbook([nodeScript(script)]), values: {} });
    const seen = JSON.parse(result.steps[0]!.output) as { n: number; cwd: string };
    expect(seen.n).toBe(0);
    expect(seen.cwd).not.toBe(process.cwd());
  });
});

describe("the allowlist", () => {
  it("refuses a program that is not on it, naming the program and the allowlist, before anything runs", async () => {
    const marker = path.join(scratch, "ran");
    const executor = testExecutor();
    const result = await executor.execute({
      runbook: makeRunbook([nodeScript(`require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`), run(["sh", "-c", "id"])]),
      values: {},
    });
    expect(result.status).toBe("failed");
    expect(result.failedStep).toBe(1);
    expect(result.steps[1]).toMatchObject({ status: "failed", attempts: 0 });
    expect(result.steps[1]!.error).toBe(`"sh" is not on the executable allowlist (allowlist: ${node}, /bin/echo, echo); add it to EXEC_ALLOWLIST if runbooks may start it`);
    expect(result.steps[0]!.status).toBe("skipped");
    expect(result.error).toMatch(/^refused before anything ran: step 2 \(run sh\): "sh" is not on the executable allowlist/);
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses relative paths, .. and absolute paths that are not listed", async () => {
    const executor = testExecutor();
    const errorFor = async (exe: string) => (await executor.execute({ runbook: makeRunbook([run([exe, "x"])]), values: {} })).steps[0]!.error;
    expect(await errorFor("./echo")).toBe(`"./echo" is a relative path; write a bare name from the allowlist (${node}, /bin/echo, echo) or an absolute path`);
    expect(await errorFor("bin/echo")).toMatch(/^"bin\/echo" is a relative path/);
    expect(await errorFor("/bin/../bin/echo")).toBe(`"/bin/../bin/echo" contains a .. segment; write the executable's plain absolute path or its bare name`);
    expect(await errorFor("/bin//echo")).toMatch(/is not a normalized path/);
    expect(await errorFor("..")).toMatch(/^"\.\." is not on the executable allowlist/);
    expect(await errorFor("/usr/bin/id")).toMatch(/^"\/usr\/bin\/id" is not on the executable allowlist/);
    expect(await errorFor("")).toBe("the step has no executable");
  });

  it("accepts the absolute path a bare allowlisted name resolved to", async () => {
    const executor = createExecutor({ allowlist: ["echo"], secrets: () => undefined, env: { PATH: "/usr/bin:/bin" } });
    const result = await executor.execute({ runbook: makeRunbook([run(["/usr/bin/echo", "ok"])]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", output: "ok" });
  });

  it("says when an allowlisted absolute path is not installed", async () => {
    const executor = createExecutor({ allowlist: ["/nonexistent/argocd"], secrets: () => undefined });
    const result = await executor.execute({ runbook: makeRunbook([run(["/nonexistent/argocd", "app", "get", "web"])]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 0, error: "/nonexistent/argocd is allowlisted but is not an executable file on this host" });
  });

  it("resolves bare names once, on the absolute directories of PATH, and says when one is missing", async () => {
    const executor = createExecutor({ allowlist: ["kubectl-not-installed", "echo"], secrets: () => undefined, env: { PATH: ".:relative/bin:/usr/bin" } });
    const result = await executor.execute({ runbook: makeRunbook([run(["kubectl-not-installed", "get", "pods"])]), values: {} });
    expect(result.steps[0]!.error).toBe(
      "kubectl-not-installed is allowlisted but was not found on PATH when the service started (.:relative/bin:/usr/bin); install it or allowlist its absolute path",
    );
  });

  it("may not contain a shell, a relative path or a .. path", () => {
    const attempt = (allowlist: string[]) => {
      try {
        createExecutor({ allowlist, secrets: () => undefined });
        return "accepted";
      } catch (error) {
        expect(isAppError(error, "config")).toBe(true);
        return (error as Error).message;
      }
    };
    expect(attempt(["kubectl", "sh"])).toBe("executable allowlist: sh is a shell: runbook steps run argv without one, so a shell may not be allowlisted");
    expect(attempt(["/bin/bash"])).toMatch(/\/bin\/bash is a shell/);
    expect(attempt(["bin/kubectl"])).toMatch(/"bin\/kubectl" is neither a bare program name/);
    expect(attempt(["/usr/../bin/kubectl"])).toMatch(/contains a \.\. segment/);
    expect(attempt(["kubectl", "/usr/local/bin/argocd"])).toBe("accepted");
  });
});

describe("the child's environment", () => {
  const planted = {
    TELEGRAM_BOT_TOKEN: "123456:telegram-token-planted-for-the-test",
    HOOK_TOKEN: "hook-token-planted-for-the-test",
    DATABASE_URL: "postgres://topicops:db-password-planted@127.0.0.1:5432/topicops",
    TOPICOPS_SECRET_RADARR_API_KEY: "radarr-key-planted-for-the-test",
    NODE_OPTIONS: "--require /nonexistent/inject.js",
    KUBECONFIG: "/etc/topicops/kubeconfig",
    ARGOCD_AUTH_TOKEN: "argocd-token-planted-for-the-test",
  };
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const [name, value] of Object.entries(planted)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("holds only the pass-through subset: never the service's credentials or secrets", async () => {
    const executor = testExecutor({ env: process.env });
    const script = "console.log(JSON.stringify(Object.keys(process.env).sort()))";
    const result = await executor.execute({ runbook: makeRunbook([nodeScript(script)]), values: {} });
    expect(result.steps[0]!.status).toBe("succeeded");
    const names = JSON.parse(result.steps[0]!.output) as string[];
    for (const name of ["TELEGRAM_BOT_TOKEN", "HOOK_TOKEN", "DATABASE_URL", "TOPICOPS_SECRET_RADARR_API_KEY", "NODE_OPTIONS"]) expect(names).not.toContain(name);
    expect(names).toEqual(expect.arrayContaining(["PATH", "KUBECONFIG", "ARGOCD_AUTH_TOKEN", "NO_COLOR"]));
    for (const name of names) expect([...CHILD_ENV_PASSTHROUGH, "NO_COLOR", "TERM", "PAGER"]).toContain(name);
  });

  it("redacts credentials a child prints, even those it could only read from its parent", async () => {
    const executor = testExecutor({ env: process.env });
    // Stands in for a tool that echoes its token, or reads /proc/<parent>/environ.
    const script = `console.log(process.env.ARGOCD_AUTH_TOKEN); console.log(${JSON.stringify(planted.HOOK_TOKEN)}); console.log('db:', ${JSON.stringify("db-password-planted")})`;
    const result = await executor.execute({ runbook: makeRunbook([nodeScript(script)]), values: {} });
    expect(result.steps[0]!.output).toBe("[redacted]\n[redacted]\ndb: [redacted]");
  });

  it("refuses to pass on a service credential even when asked to", () => {
    expect(() => testExecutor({ passEnv: ["AWS_PROFILE", "TELEGRAM_BOT_TOKEN", "LD_PRELOAD"] })).toThrow(
      /TELEGRAM_BOT_TOKEN is never passed to runbook commands.*LD_PRELOAD is never passed/,
    );
    expect(() => testExecutor({ passEnv: ["AWS_PROFILE"] })).not.toThrow();
  });
});

describe("values in argv", () => {
  const echoArgs = nodeScript("console.log(JSON.stringify(process.argv.slice(1)))", ["{{ value }}"]);

  it("are checked against their pattern again, and an injection attempt is refused before anything runs", async () => {
    const executor = testExecutor();
    const starts: number[] = [];
    for (const value of ["x; rm -rf /", "$(id)", "`id`", "a\nb", "-oProxyCommand=id", "../../etc/passwd"]) {
      const result = await executor.execute({ runbook: makeRunbook([echoArgs], { value: undefined }), values: { value } }, { onStepStart: (i) => void starts.push(i) });
      expect(result.status, JSON.stringify(value)).toBe("failed");
      expect(result.steps[0]!.attempts).toBe(0);
      expect(result.steps[0]!.error).toContain(`param "value": value `);
      expect(result.steps[0]!.error).toContain("does not match the param's pattern ^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,252})$");
      expect(result.steps[0]!.output).toBe("");
    }
    expect(starts).toEqual([]);
  });

  it("must all be there", async () => {
    const result = await testExecutor().execute({ runbook: makeRunbook([echoArgs], { value: undefined }), values: {} });
    expect(result.steps[0]!.error).toBe('param "value" has no value');
  });

  it("that pass a permissive pattern reach the program as one argument each, never through a shell", async () => {
    const value = "a; echo pwned $(id) `id` | cat > /tmp/x && \"q\" 'q'\nnext line";
    const result = await testExecutor().execute({ runbook: makeRunbook([echoArgs], { value: "[\\s\\S]*" }), values: { value } });
    expect(result.status).toBe("succeeded");
    expect(JSON.parse(result.steps[0]!.output)).toEqual([value]);
  });
});

describe("timeouts", () => {
  it("kill a child that runs too long and say so", async () => {
    const executor = testExecutor();
    const result = await executor.execute({ runbook: makeRunbook([nodeScript("setTimeout(() => {}, 60000)", [], { timeoutMs: 300 })]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "timed out after 300ms" });
    expect(result.steps[0]!.summary).toMatch(/ — timed out after 300ms$/);
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it("follow SIGTERM with SIGKILL for a child that ignores it, and stop what it started too", async () => {
    const pidFile = path.join(scratch, "grandchild.pid");
    const script = [
      "process.on('SIGTERM', () => {});",
      `const g = require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });`,
      `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));`,
      "console.log('started'); setInterval(() => {}, 1000);",
    ].join("\n");
    const executor = testExecutor({ killGraceMs: 200 });
    const result = await executor.execute({ runbook: makeRunbook([nodeScript(script, [], { timeoutMs: 500 })]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "timed out after 500ms", output: "started" });
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(await gone(grandchild)).toBe(true);
  });
});

/** True once `pid` is no process, or a zombie waiting for a reaper (a container's init may be slow to reap). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (/^\d+ \(.*\) Z/.test(stat)) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
