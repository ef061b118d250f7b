import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * In-process memory snapshots for "how much does holding X cost": a full GC first, so what is
 * measured is what is still referenced, not garbage the collector has not reached yet.
 *
 * The benchmarks run without --expose-gc (npm run bench starts node plainly), so the flag is set
 * at run time and `gc` is taken from a fresh context, where V8 installs it once the flag is on.
 */
let collect: (() => void) | undefined;
try {
  setFlagsFromString("--expose-gc");
  collect = runInNewContext("gc") as () => void;
} catch {
  collect = undefined;
}

export const canCollectGarbage = collect !== undefined;

export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  /** Typed-array backing stores (the index's vectors) live here, outside the V8 heap. */
  arrayBuffers: number;
  external: number;
}

export function memorySnapshot(): MemorySnapshot {
  // Twice: the first pass can leave work (weak references, finalizers) for the second.
  collect?.();
  collect?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

/** b − a in MB, one decimal; heap + external is what the process holds for JavaScript. */
export function growthMb(a: MemorySnapshot, b: MemorySnapshot): { rss: number; heap: number; external: number; heapPlusExternal: number } {
  const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  return {
    rss: mb(b.rss - a.rss),
    heap: mb(b.heapUsed - a.heapUsed),
    external: mb(b.external - a.external),
    heapPlusExternal: mb(b.heapUsed + b.external - a.heapUsed - a.external),
  };
}
