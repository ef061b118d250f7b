import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadRunbooks, MAX_RUNBOOK_FILE_BYTES } from "../../src/runbooks/load.ts";
import { formatProblem } from "../../src/util/yaml-file.ts";
import { sharedDir } from "../helpers/shared.ts";

const corpusDir = join(sharedDir, "corpus", "prometheus-operator-runbooks");

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A runbooks dir with these files (paths may have folders); returns its path. */
function runbooksDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), "topicops-runbooks-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

function runbookText(id: string, extra: string[] = []): string {
  return ["---", `id: ${id}`, `title: ${id}`, "risk: low", ...extra, "steps:", "  - wait: 1s", "---", "", `# ${id}`, ""].join("\n");
}

describe("loadRunbooks", () => {
  it("loads runbooks and pages from sub-folders, skipping README files and dot-files", async () => {
    const dir = runbooksDir({
      "restart-web.md": runbookText("restart-web"),
      "wiki/Disk Full.md": "# Disk is full\n",
      "wiki/deeper/notes.md": "---\ntitle: Notes\n---\nno heading\n",
      "README.md": "# About this folder\n",
      "wiki/readme.md": "# About the wiki\n",
      ".drafts/secret-plan.md": runbookText("secret-plan"),
      ".restart-web.md.swp": "garbage",
      "wiki/.hidden.md": "# hidden\n",
      "notes.txt": "not markdown",
    });
    const library = await loadRunbooks(dir);
    expect(library.problems).toEqual([]);
    expect(library.runbooks.map((r) => [r.file, r.id, r.kind, r.title])).toEqual([
      ["restart-web.md", "restart-web", "runbook", "restart-web"],
      ["wiki/Disk Full.md", "disk-full", "page", "Disk is full"],
      ["wiki/deeper/notes.md", "notes", "page", "Notes"],
    ]);
    expect(library.byId("disk-full")?.file).toBe("wiki/Disk Full.md");
    expect(library.byId("secret-plan")).toBeUndefined();
  });

  it("leaves out a bad file with its problems, and loads the others", async () => {
    const dir = runbooksDir({
      "a-first.md": runbookText("a-first"),
      "broken.md": runbookText("broken", ["starting_level: sometimes"]),
      "ops/run-string.md": runbookText("run-string").replace("  - wait: 1s", "  - run: kubectl get pods"),
      "z-last.md": runbookText("z-last"),
    });
    const library = await loadRunbooks(dir);
    expect(library.runbooks.map((r) => r.id)).toEqual(["a-first", "z-last"]);
    expect(library.problems.map(formatProblem)).toEqual([
      'broken.md:5:17: starting_level: expected one of "manual", "prompted", "standard", got string "sometimes"',
      expect.stringMatching(/^ops\/run-string\.md:6:10: steps\[0\]\.run: run must be a list of arguments/),
    ]);
  });

  it("reports an id used by two files, naming both, and loads neither", async () => {
    const dir = runbooksDir({
      "restart-web.md": runbookText("restart-web"),
      "team-b/restart-web.md": ["---", "title: Restart web (team B)", "id: restart-web", "risk: low", "steps:", "  - wait: 1s", "---", ""].join("\n"),
      "other.md": runbookText("other"),
    });
    const library = await loadRunbooks(dir);
    expect(library.runbooks.map((r) => r.id)).toEqual(["other"]);
    expect(library.byId("restart-web")).toBeUndefined();
    expect(library.problems.map(formatProblem)).toEqual([
      'restart-web.md:2:5: id: id "restart-web" is also used by team-b/restart-web.md; ids must be unique, so none of these files is loaded',
      'team-b/restart-web.md:3:5: id: id "restart-web" is also used by restart-web.md; ids must be unique, so none of these files is loaded',
    ]);
  });

  it("reports a page whose id collides with a runbook (no line: the id comes from the file name)", async () => {
    const library = await loadRunbooks(runbooksDir({ "disk-full.md": runbookText("disk-full"), "wiki/Disk_Full.md": "# Disk full\n" }));
    expect(library.runbooks).toEqual([]);
    expect(library.problems.map(formatProblem)).toEqual([
      'disk-full.md:2:5: id: id "disk-full" is also used by wiki/Disk_Full.md; ids must be unique, so none of these files is loaded',
      'wiki/Disk_Full.md: id "disk-full" is also used by disk-full.md; ids must be unique, so none of these files is loaded',
    ]);
  });

  it("hashes the file's bytes exactly, BOM and CRLF included", async () => {
    const bytes = Buffer.from(`\uFEFF${runbookText("hashed").replace(/\n/g, "\r\n")}`, "utf8");
    const library = await loadRunbooks(runbooksDir({ "hashed.md": bytes }));
    expect(library.problems).toEqual([]);
    expect(library.byId("hashed")?.contentHash).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("refuses files that are too big or not UTF-8", async () => {
    const library = await loadRunbooks(
      runbooksDir({ "huge.md": `# Huge\n${"x".repeat(MAX_RUNBOOK_FILE_BYTES)}`, "latin1.md": Buffer.from([0x23, 0x20, 0xe9, 0x0a]), "fine.md": "# Fine\n" }),
    );
    expect(library.runbooks.map((r) => r.id)).toEqual(["fine"]);
    expect(library.problems.map(formatProblem)).toEqual([
      `huge.md: the file is ${MAX_RUNBOOK_FILE_BYTES + 7} bytes; the limit is ${MAX_RUNBOOK_FILE_BYTES} (1 MiB)`,
      "latin1.md: the file is not valid UTF-8 text",
    ]);
  });

  it("a missing directory is a problem, not a crash", async () => {
    const library = await loadRunbooks(join(tmpdir(), "topicops-no-such-runbooks-dir"));
    expect(library.runbooks).toEqual([]);
    expect(library.problems).toHaveLength(1);
    expect(formatProblem(library.problems[0]!)).toMatch(/^\.: cannot be read: ENOENT/);
  });

  it("reads the prometheus-operator corpus as 50 pages without problems", async () => {
    const library = await loadRunbooks(corpusDir);
    expect(library.problems).toEqual([]);
    expect(library.runbooks).toHaveLength(50);
    expect(library.runbooks.every((r) => r.kind === "page" && r.steps.length === 0 && r.match === undefined)).toBe(true);
    expect(new Set(library.runbooks.map((r) => r.id)).size).toBe(50);

    const crashLooping = library.byId("kubepodcrashlooping")!;
    expect(crashLooping).toMatchObject({ title: "KubePodCrashLooping", file: "KubePodCrashLooping.md", risk: "low", startingLevel: "manual" });
    expect(crashLooping.aliases).toContain("Kube Pod Crash Looping");
    expect(crashLooping.body).toMatch(/^# KubePodCrashLooping\n\n## Meaning\n/);
    expect(crashLooping.body).not.toContain("weight: 20");

    // No front matter at all: the heading is the title and the only name.
    expect(library.byId("targetdown")).toMatchObject({ title: "TargetDown", aliases: [] });
    // The heading wins over the file name, which stays an alias.
    expect(library.byId("cputhrottlinghigh")).toMatchObject({ title: "CPU Throttling High", aliases: ["CPUThrottlingHigh"] });
    expect(library.byId("prometheusremotewritebehind")?.aliases).toEqual(["Prometheus Remote Write Behind", "PrometheusRemoteWriteBehind"]);
  });
});
