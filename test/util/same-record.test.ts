import { describe, expect, it } from "vitest";
import { sameRecord } from "../../src/util/same-record.ts";

describe("sameRecord", () => {
  it("ignores key order, as jsonb returns keys in its own", () => {
    expect(sameRecord({ b: "2", a: "1" }, { a: "1", b: "2" })).toBe(true);
    expect(sameRecord({ title: "X", firing: 2, resolved: 0 }, { resolved: 0, firing: 2, title: "X" })).toBe(true);
  });

  it("tells a changed, added or removed field", () => {
    expect(sameRecord({ a: "1", b: "2" }, { a: "1", b: "3" })).toBe(false);
    expect(sameRecord({ a: "1" }, { a: "1", b: "2" })).toBe(false);
    expect(sameRecord({ a: "1", b: "2" }, { a: "1" })).toBe(false);
    expect(sameRecord({ a: "1", b: "2" }, { a: "1", c: "2" })).toBe(false);
    expect(sameRecord({ n: "1" }, { n: 1 } as Record<string, unknown>)).toBe(false);
  });

  it("takes a missing record for an empty one", () => {
    expect(sameRecord(null, {})).toBe(true);
    expect(sameRecord(undefined, {})).toBe(true);
    expect(sameRecord(null, { a: "1" })).toBe(false);
  });
});
