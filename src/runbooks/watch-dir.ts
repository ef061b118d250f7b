import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "../logger.ts";

/** An editor's save, a `git pull` or a ConfigMap swap is a burst of events; they become one call. */
const SETTLE_MS = 300;

/**
 * Calls `onChange` when anything under `dir` changes, once the burst of events has settled.
 * Returns the function that stops watching. Watching is a convenience, so a directory that cannot
 * be watched, or a watcher that fails later (the directory removed, too many open files), is
 * logged with `hint` (what to do instead) and never thrown: an FSWatcher's "error" event without a
 * listener would end the process.
 */
export function watchDir(dir: string, logger: Logger, onChange: () => void, hint?: string): () => void {
  const instead = hint ? `; ${hint}` : "";
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    watcher = watch(dir, { recursive: true }, () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, SETTLE_MS);
    });
    watcher.on("error", (error) => {
      logger.warn({ err: error, dir }, `stopped watching the runbooks directory${instead}`);
      watcher?.close();
    });
  } catch (error) {
    logger.warn({ err: error, dir }, `cannot watch the runbooks directory${instead}`);
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
