import { describe, expect, it } from "vitest";
import { outboxPriority } from "../../src/telegram/outbox/cards.ts";

describe("what the outbox sends first", () => {
  it("new alerts by severity, before notices about cards (run progress), before edits; replies to people first of all", () => {
    const newCritical = outboxPriority({ messageId: null, severity: "critical", kind: "alert" });
    const newWarning = outboxPriority({ messageId: null, severity: "warning", kind: "alert" });
    const runProgress = outboxPriority({ messageId: null, severity: null, kind: "notice", aboutCard: true });
    const reply = outboxPriority({ messageId: null, severity: null, kind: "notice" });
    const rollup = outboxPriority({ messageId: null, severity: "critical", kind: "rollup" });
    const resolveEdit = outboxPriority({ messageId: 42, severity: "critical", kind: "alert" });
    expect(reply).toBeLessThanOrEqual(newCritical);
    expect(rollup).toBeLessThanOrEqual(newCritical);
    expect(newCritical).toBeLessThan(newWarning);
    expect(newWarning).toBeLessThan(runProgress);
    expect(runProgress).toBeLessThan(resolveEdit);
  });
});
