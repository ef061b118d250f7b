import { describe, expect, it } from "vitest";
import { sleep } from "../../src/util/sleep.ts";

describe("sleep", () => {
  it("waits about as long as asked", async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("ends at once on an abort, rejecting with its reason", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(sleep(60_000, controller.signal)).rejects.toThrow("stopping");
  });
});
