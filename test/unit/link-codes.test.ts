import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LinkCodes } from "../../src/auth/link-codes.js";

const binding = { messageId: `msg_${randomBytes(12).toString("base64url")}`, transferId: "tx_abc", channel: "RCS" };
const inAnHour = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);

describe("short link codes: a message id plus a MAC", () => {
  const codes = new LinkCodes([randomBytes(32)]);

  it("are 32 URL-safe characters that name the message and the expiry, bound to message, transfer and channel", () => {
    const code = codes.issue(binding, inAnHour);
    expect(code).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const decoded = codes.decode(code)!;
    expect(decoded.messageId).toBe(binding.messageId);
    expect(decoded.expiresAt).toEqual(inAnHour);
    expect(decoded.boundTo(binding)).toBe(true);
    expect(decoded.boundTo({ ...binding, channel: "SMS" })).toBe(false);
    expect(decoded.boundTo({ ...binding, transferId: "tx_other" })).toBe(false);
  });

  it("any changed character breaks the MAC (or names another message)", () => {
    const code = codes.issue(binding, inAnHour);
    for (let index = 0; index < code.length; index++) {
      const changed = `${code.slice(0, index)}${code[index] === "Q" ? "R" : "Q"}${code.slice(index + 1)}`;
      const decoded = codes.decode(changed)!;
      expect(decoded.messageId === binding.messageId && decoded.boundTo(binding)).toBe(false);
    }
  });

  it("anything not 32 URL-safe characters is not a code", () => {
    for (const bad of ["", "short", `${"a".repeat(31)}!`, "a".repeat(33)]) expect(codes.decode(bad)).toBeUndefined();
  });

  it("after a rotation the old key's codes still verify; another deployment's never do", () => {
    const oldKey = randomBytes(32);
    const issuedBefore = new LinkCodes([oldKey]).issue(binding, inAnHour);
    expect(new LinkCodes([randomBytes(32), oldKey]).decode(issuedBefore)!.boundTo(binding)).toBe(true);
    expect(new LinkCodes([randomBytes(32)]).decode(issuedBefore)!.boundTo(binding)).toBe(false);
  });
});
