import { afterEach, describe, expect, it, vi } from "vitest";
import { withTimeout } from "../../src/util/with-timeout.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("withTimeout", () => {
  it("settles as the promise does when it is in time, and leaves no timer behind", async () => {
    vi.useFakeTimers();
    await expect(withTimeout(Promise.resolve(42), 1000, "too slow")).resolves.toBe(42);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1000, "too slow")).rejects.toThrow("boom");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the given message once the time is up", async () => {
    vi.useFakeTimers();
    const never = new Promise<number>(() => {});
    const result = withTimeout(never, 1000, "did not answer within 1 s");
    vi.advanceTimersByTime(1000);
    await expect(result).rejects.toThrow(new Error("did not answer within 1 s"));
  });
});
