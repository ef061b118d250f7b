import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/shared.ts";
import { startTestService, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;
beforeAll(async () => {
  // A short lease, so the test does not wait half a minute; the rule is the same at 30 s.
  t = await startTestService({ service: { outboxLeaseSeconds: 4 } });
  await waitFor(() => t.fake.topics().length >= 8);
});
afterAll(() => t?.stop());

describe("a Telegram call that never answers", () => {
  it("is given up before its outbox lease ends, and the card is sent again once", async () => {
    t.fake.fail("sendMessage", { hang: true, times: 1 });
    const res = await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
    expect(res.status).toBe(200);
    const cards = () => t.fake.messages().filter((m) => m.text.includes("KubePodCrashLooping"));
    await waitFor(() => cards().length > 0, () => t.fake.calls.map((c) => [c.method, c.ok, c.description]));
    const sends = t.fake.calls.filter((c) => c.method === "sendMessage");
    expect(sends[0]).toMatchObject({ hung: true });
    expect(cards()).toHaveLength(1);
    // And the row is done with, not left to go out a second time.
    await waitFor(async () => (await t.db.sql`select 1 from outbox`).length === 0);
    expect(cards()).toHaveLength(1);
  });
});
