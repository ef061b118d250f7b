import { describe, expect, it } from "vitest";
import { buttonExpiry, createCallbackCodec } from "../../src/telegram/callback-data.ts";

const codec = createCallbackCodec("test-secret");
const expiresAt = new Date("2026-11-20T10:30:45Z");

describe("button callback data", () => {
  it("is verb, arguments, the expiry in whole minutes (base 36) and the MAC", () => {
    // Buttons already on cards in chats carry this format: it must not change.
    expect(codec.encode("ap", [42], { expiresAt })).toBe("ap:42:hta1i:1J8JiXcy_w");
    expect(codec.encode("sl", [7, 1, 24], { expiresAt })).toBe("sl:7:1:24:hta1i:aW-6Er-ZqK");
    expect(codec.encode("us", [3], { expiresAt })).toBe("us:3:hta1i:-rD-vMJ99O");
  });

  it("decodes what it encoded, with the expiry down to the minute", () => {
    expect(codec.decode("sl:7:1:24:hta1i:aW-6Er-ZqK")).toEqual({ verb: "sl", args: ["7", "1", "24"], expiresAt: new Date("2026-11-20T10:30:00Z") });
    expect(buttonExpiry(expiresAt)).toEqual(new Date("2026-11-20T10:30:00Z"));
  });

  it("refuses data signed with another secret, or changed", () => {
    const data = codec.encode("ap", [42], { expiresAt });
    expect(createCallbackCodec("another-secret").decode(data)).toBeUndefined();
    expect(codec.decode(data.replace("hta1i", "hta1j"))).toBeUndefined();
    expect(codec.decode("ap:42:zzz:AAAAAAAAAA")).toBeUndefined();
    expect(codec.decode("trust/p0")).toBeUndefined();
  });

  it("fits Telegram's 64 bytes or says so", () => {
    expect(() => codec.encode("ap", ["x".repeat(60)], { expiresAt })).toThrow(/callback data too long/);
  });
});
