import { describe, expect, it } from "vitest";
import { plural } from "../../src/util/plural.ts";

describe("plural", () => {
  it("counts a noun, singular only for exactly one", () => {
    expect([0, 1, 2].map((n) => plural(n, "run"))).toEqual(["0 runs", "1 run", "2 runs"]);
    expect(plural(3, "approved run")).toBe("3 approved runs");
  });

  it("takes the plural form when it is not the noun and an s", () => {
    expect([1, 2].map((n) => plural(n, "try", "tries"))).toEqual(["1 try", "2 tries"]);
    expect(plural(4, "series", "series")).toBe("4 series");
  });
});
