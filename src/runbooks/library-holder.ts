import type { Logger } from "../logger.ts";
import { keepsCurrent, loadRunbooks } from "./load.ts";
import type { RunbookLibrary } from "./types.ts";
import { watchDir } from "./watch-dir.ts";

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
  let unwatch: (() => void) | undefined;
  const reload = async () => {
    const loaded = await loadRunbooks(dir);
    if (!keepsCurrent(loaded, library, dir, logger)) library = loaded;
  };
  return {
    current: () => library,
    async start() {
      await reload();
      unwatch = watchDir(
        dir,
        logger,
        () => void reload().catch((error) => logger.warn({ err: error }, "could not reload runbooks")),
        "changed runbooks are read at the next restart",
      );
    },
    stop() {
      unwatch?.();
    },
  };
}
