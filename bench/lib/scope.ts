/**
 * Teardown for one benchmark: child processes, the fake Telegram, the database and the Redis keys
 * are registered as they are created and released in reverse order, whether the benchmark finished,
 * threw, or the run was interrupted (index.ts closes every open scope on SIGINT/SIGTERM), so a
 * benchmark never leaves a database or a service behind on a developer's machine.
 */
export interface Scope {
  defer(what: string, release: () => Promise<unknown> | unknown): void;
  close(): Promise<string[]>;
}

const open = new Set<Scope>();
const interruption = new AbortController();

/** Aborted when the run is interrupted: long loops (load generators, waits) stop early on it. */
export const interrupted: AbortSignal = interruption.signal;

export function createScope(): Scope {
  const stack: { what: string; release: () => Promise<unknown> | unknown }[] = [];
  let closing: Promise<string[]> | undefined;
  const scope: Scope = {
    defer(what, release) {
      stack.push({ what, release });
    },
    close() {
      closing ??= (async () => {
        const problems: string[] = [];
        while (stack.length > 0) {
          const { what, release } = stack.pop()!;
          try {
            await release();
          } catch (error) {
            problems.push(`could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        open.delete(scope);
        return problems;
      })();
      return closing;
    },
  };
  open.add(scope);
  return scope;
}

export async function closeAllScopes(): Promise<void> {
  interruption.abort(new Error("interrupted"));
  await Promise.allSettled([...open].map((s) => s.close()));
}
