import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/*
 * Fixtures and the runbook corpus live next to the repository (../shared), outside it, so several
 * checkouts can share one copy. TOPICOPS_SHARED_DIR points elsewhere, e.g. in CI.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const sharedDir = process.env.TOPICOPS_SHARED_DIR ?? path.resolve(repoRoot, "../shared");

/** Absolute path of a file or folder under `<sharedDir>/fixtures`. */
export function fixturePath(relPath: string): string {
  return path.join(sharedDir, "fixtures", relPath);
}

/** A fixture's exact text: signatures and parsers must see the bytes as the sender sent them. */
export function fixture(relPath: string): string {
  return readFileSync(fixturePath(relPath), "utf8");
}

export function fixtureJson<T = unknown>(relPath: string): T {
  return JSON.parse(fixture(relPath)) as T;
}
