import { Api } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApprovers } from "../../src/decisions/approvers.ts";
import { startFakeTelegram, type FakeTelegram } from "../fake-telegram/index.ts";

let fake: FakeTelegram;
const chatId = -1001234567890;

beforeAll(async () => {
  fake = await startFakeTelegram({ chats: [{ id: chatId, title: "SRE", isForum: true, admins: [{ id: 111, first_name: "Admin" }, { id: 222, first_name: "Owner", creator: true }] }] });
});
afterAll(() => fake.close());

describe("who may approve", () => {
  const api = () => new Api(fake.token, { apiRoot: fake.apiRoot });

  it("the ids in APPROVER_IDS, and nobody else", async () => {
    const approvers = createApprovers({ ids: [333], admins: false, api: api(), chatId });
    expect(await approvers.allowed(333)).toBe(true);
    expect(await approvers.allowed(111)).toBe(false);
  });

  it("with APPROVER_ADMINS the group's administrators too, asked of Telegram once and cached", async () => {
    const approvers = createApprovers({ ids: [333], admins: true, api: api(), chatId });
    expect(await approvers.allowed(111)).toBe(true);
    expect(await approvers.allowed(222)).toBe(true);
    expect(await approvers.allowed(444)).toBe(false);
    expect(await approvers.allowed(333)).toBe(true);
    expect(fake.calls.filter((c) => c.method === "getChatAdministrators")).toHaveLength(1);
  });
});
