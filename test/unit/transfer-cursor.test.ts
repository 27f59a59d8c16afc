import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { decodeTransferCursor, encodeTransferCursor } from "../../src/domain/transfer-cursor.js";

describe("transfer cursors", () => {
  it("give back the sequence number they were made from, for their own transfer", () => {
    for (const seq of [0, 1, 42, 999_999_999_999_999]) {
      expect(decodeTransferCursor("tx_abc", encodeTransferCursor("tx_abc", seq))).toBe(seq);
    }
    // A transfer id with a colon in it still splits at the last one.
    expect(decodeTransferCursor("tx:odd", encodeTransferCursor("tx:odd", 7))).toBe(7);
  });

  it.each([
    ["not base64url", "not a cursor!"],
    ["empty", ""],
    ["no sequence number", Buffer.from("tx_abc").toString("base64url")],
    ["a negative one", Buffer.from("tx_abc:-1").toString("base64url")],
    ["leading zeros", Buffer.from("tx_abc:01").toString("base64url")],
    ["beyond a safe integer", Buffer.from("tx_abc:9999999999999999").toString("base64url")],
    ["another transfer's", encodeTransferCursor("tx_other", 3)],
  ])("refuse %s as BAD_USER_INPUT", (_label, cursor) => {
    expect(() => decodeTransferCursor("tx_abc", cursor)).toThrow(DomainError);
    try {
      decodeTransferCursor("tx_abc", cursor);
    } catch (error) {
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", details: { field: "after" } });
    }
  });
});
