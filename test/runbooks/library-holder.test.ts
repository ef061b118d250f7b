import type * as nodeFs from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { createLibraryHolder } from "../../src/runbooks/library-holder.ts";

// The real fs.watch, with each watcher kept so a test can make it fail the way an FSWatcher does
// when its directory goes away or the process runs out of file descriptors.
const watchers = vi.hoisted(() => [] as nodeFs.FSWatcher[]);
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof nodeFs>();
  const watch = (...args: Parameters<typeof fs.watch>) => {
    const watcher = fs.watch(...args);
    watchers.push(watcher);
    return watcher;
  };
  return { ...fs, default: { ...fs, watch }, watch };
});

let dir: string;
beforeEach(async () => {
  watchers.length = 0;
  dir = await mkdtemp(path.join(tmpdir(), "topicops-holder-"));
  await writeFile(path.join(dir, "first.md"), "# First page\n\nSomething to read.\n");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function capture() {
  const lines: { level: string; msg: string }[] = [];
  const logger = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { logger, lines };
}

describe("the library holder", () => {
  it("reads the runbooks, and again when a file changes", async () => {
    const holder = createLibraryHolder(dir, capture().logger);
    await holder.start();
    expect(holder.current()?.runbooks.map((r) => r.id)).toEqual(["first"]);
    await writeFile(path.join(dir, "second.md"), "# Second page\n\nMore to read.\n");
    await vi.waitFor(() => expect(holder.current()?.runbooks.map((r) => r.id)).toEqual(["first", "second"]), { timeout: 10_000 });
    holder.stop();
  });

  it("survives its watcher failing: the error is logged, not thrown, and the library it has stays", async () => {
    const { logger, lines } = capture();
    const holder = createLibraryHolder(dir, logger);
    await holder.start();
    expect(watchers).toHaveLength(1);
    // An FSWatcher without an error listener throws this out of the event loop, ending the process.
    expect(() => watchers[0]!.emit("error", Object.assign(new Error("EMFILE: too many open files, watch"), { code: "EMFILE" }))).not.toThrow();
    expect(lines.some((l) => l.level === "warn" && /stopped watching/.test(l.msg))).toBe(true);
    expect(holder.current()?.runbooks.map((r) => r.id)).toEqual(["first"]);
    holder.stop();
  });

  it("keeps what it has when the directory goes away", async () => {
    const { logger, lines } = capture();
    const holder = createLibraryHolder(dir, logger);
    await holder.start();
    await rm(dir, { recursive: true, force: true });
    await vi.waitFor(() => expect(lines.some((l) => l.level === "error" && /cannot be read; keeping the 1 runbook read before/.test(l.msg))).toBe(true), { timeout: 10_000 });
    expect(holder.current()?.runbooks.map((r) => r.id)).toEqual(["first"]);
    holder.stop();
  });
});