import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "../logger.ts";
import { loadRunbooks } from "./load.ts";
import type { RunbookLibrary } from "./types.ts";

export interface LibraryHolder {
  current(): RunbookLibrary | undefined;
  start(): Promise<void>;
  stop(): void;
}

/**
 * The runbook files, read and kept current, for processes that need runbooks but not search (the
 * web process: Modify asks for each parameter and checks it against the runbook's pattern).
 */
export function createLibraryHolder(dir: string, logger: Logger): LibraryHolder {
  let library: RunbookLibrary | undefined;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const reload = async () => {
    library = await loadRunbooks(dir);
  };
  return {
    current: () => library,
    async start() {
      await reload();
      try {
        watcher = watch(dir, { recursive: true }, () => {
          clearTimeout(timer);
          timer = setTimeout(() => void reload().catch((error) => logger.warn({ err: error }, "could not reload runbooks")), 300);
        });
      } catch (error) {
        logger.warn({ err: error, dir }, "cannot watch the runbooks directory");
      }
    },
    stop() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
