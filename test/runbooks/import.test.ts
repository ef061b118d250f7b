import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import { importRunbooks } from "../../src/runbooks/import.ts";
import { loadRunbooks } from "../../src/runbooks/load.ts";
import { formatProblem } from "../../src/util/yaml-file.ts";
import { sharedDir } from "../helpers/shared.ts";

const corpusDir = join(sharedDir, "corpus", "prometheus-operator-runbooks");

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "topicops-import-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const goodRunbook = ["---", "id: restart-web", "title: Restart web", "risk: low", "steps:", "  - wait: 1s", "---", "# Restart web", ""].join("\n");

describe("importRunbooks", () => {
  it("copies the corpus into a sub-folder, then skips all of it as unchanged", async () => {
    const runbooksDir = tempDir({ "restart-web.md": goodRunbook });

    const first = await importRunbooks(corpusDir, runbooksDir);
    expect(first.problems).toEqual([]);
    expect(first.skipped).toEqual([]);
    expect(first.imported).toHaveLength(50);
    expect(first.imported.every((f) => f.kind === "page" && !f.replaced)).toBe(true);
    expect(first.imported.find((f) => f.id === "kubepodcrashlooping")).toEqual({
      file: "KubePodCrashLooping.md",
      to: "prometheus-operator-runbooks/KubePodCrashLooping.md",
      id: "kubepodcrashlooping",
      kind: "page",
      replaced: false,
    });
    const copied = join(runbooksDir, "prometheus-operator-runbooks");
    expect(readdirSync(copied)).toHaveLength(50);
    expect(readFileSync(join(copied, "TargetDown.md"))).toEqual(readFileSync(join(corpusDir, "TargetDown.md")));

    const library = await loadRunbooks(runbooksDir);
    expect(library.problems).toEqual([]);
    expect(library.runbooks).toHaveLength(51);
    expect(library.byId("kubepodcrashlooping")?.file).toBe("prometheus-operator-runbooks/KubePodCrashLooping.md");

    const second = await importRunbooks(corpusDir, runbooksDir);
    expect(second.imported).toEqual([]);
    expect(second.problems).toEqual([]);
    expect(second.skipped).toHaveLength(50);
    expect(second.skipped.every((s) => s.reason === "unchanged")).toBe(true);
  });

  it("does not copy a file that fails validation, and says why", async () => {
    const source = tempDir({
      "good.md": "# Good page\n",
      "broken.md": ["---", "id: broken", "title: Broken", "risk: low", "steps:", "  - run: rm -rf /tmp/x", "---", ""].join("\n"),
      "README.md": "# About these pages\n",
    });
    const runbooksDir = tempDir();
    const result = await importRunbooks(source, runbooksDir, { into: "wiki" });
    expect(result.imported.map((f) => f.to)).toEqual(["wiki/good.md"]);
    expect(result.skipped).toEqual([{ file: "broken.md", reason: "invalid (1 problem), not copied" }]);
    expect(result.problems.map(formatProblem)).toEqual([expect.stringMatching(/^broken\.md:6:10: steps\[0\]\.run: run must be a list of arguments/)]);
    expect(existsSync(join(runbooksDir, "wiki", "broken.md"))).toBe(false);
    expect(existsSync(join(runbooksDir, "wiki", "README.md"))).toBe(false);
    expect(readdirSync(join(runbooksDir, "wiki"))).toEqual(["good.md"]);
  });

  it("overwrites a file whose content changed, and reports it", async () => {
    const source = tempDir({ "notes/disk.md": "# Disk full, version 2\n" });
    const runbooksDir = tempDir({ "ops/notes/disk.md": "# Disk full, version 1\n" });
    const result = await importRunbooks(source, runbooksDir, { into: "ops" });
    expect(result.imported).toEqual([{ file: "notes/disk.md", to: "ops/notes/disk.md", id: "disk", kind: "page", replaced: true }]);
    expect(readFileSync(join(runbooksDir, "ops", "notes", "disk.md"), "utf8")).toBe("# Disk full, version 2\n");
    // No temporary files are left behind.
    expect(readdirSync(join(runbooksDir, "ops", "notes"))).toEqual(["disk.md"]);
  });

  it("refuses ids already used elsewhere in the library or twice in the import", async () => {
    const source = tempDir({ "restart-web.md": "# Restart web by hand\n", "a/Disk.md": "# Disk\n", "b/disk.md": "# disk\n", "ok.md": "# Ok\n" });
    const runbooksDir = tempDir({ "restart-web.md": goodRunbook });
    const result = await importRunbooks(source, runbooksDir, { into: "wiki" });
    expect(result.imported.map((f) => f.id)).toEqual(["ok"]);
    expect(result.skipped).toEqual([
      { file: "a/Disk.md", reason: 'id "disk" is also used by b/disk.md in the same import' },
      { file: "b/disk.md", reason: 'id "disk" is also used by a/Disk.md in the same import' },
      { file: "restart-web.md", reason: 'id "restart-web" is already used by restart-web.md in the runbooks directory' },
    ]);
    expect((await loadRunbooks(runbooksDir)).problems).toEqual([]);
  });

  it("refuses a target folder outside the runbooks directory or one the loader would skip", async () => {
    const source = tempDir({ "a.md": "# A\n" });
    const runbooksDir = tempDir();
    for (const into of ["../elsewhere", "/etc", ".hidden", "a/../b", ""]) {
      await expect(importRunbooks(source, runbooksDir, { into }), into).rejects.toBeInstanceOf(AppError);
    }
    await expect(importRunbooks(join(source, "missing"), runbooksDir)).rejects.toThrow(/cannot import from/);
    expect(readdirSync(runbooksDir)).toEqual([]);
  });
});
