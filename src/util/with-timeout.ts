/**
 * Settles as `promise` does, or rejects with `new Error(message)` once `ms` have passed, whichever
 * comes first. The timer is cleared either way, so a fast answer leaves nothing holding the event
 * loop open. The promise itself is not cancelled: the caller only stops waiting for it.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
