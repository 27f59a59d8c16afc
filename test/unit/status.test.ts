import { describe, expect, it } from "vitest";
import {
  CHANNELS,
  MESSAGE_STATUSES,
  RECEIPT_EVENT_TYPES,
  type Channel,
  type MessageStatus,
  type ReceiptEventType,
  type TransferStatus,
} from "../../src/domain/model.js";
import { deriveTransferStatus, nextMessageStatus } from "../../src/domain/status.js";

/**
 * The expected table, written out by hand from design.md ("How events move statuses"), not
 * computed by the same rules as the code: rows are the current message status, columns the
 * canonical event, in this order.
 */
const EVENTS: readonly ReceiptEventType[] = [
  "QUEUED", "SENT", "DELIVERED", "READ", "FAILED", "REVOKED", "ACTION", "REPLY", "OPT_OUT", "COMPLAINT", "TYPING", "DOWNLOADED", "LINK_OPENED",
];
const Q = "QUEUED", S = "SENT", D = "DELIVERED", R = "READ", F = "FAILED", V = "REVOKED", X = "SUPPRESSED";

/** RCS and SMS. */
const NON_EMAIL: Record<MessageStatus, readonly MessageStatus[]> = {
  //          QUEUED SENT DELIV READ FAILED REVOKED ACTION REPLY OPT_OUT COMPLAINT TYPING DOWNLOADED LINK_OPENED
  QUEUED:     [Q,    S,   D,    R,   F,     V,      Q,     Q,    Q,      Q,        Q,     Q,          Q],
  SENT:       [S,    S,   D,    R,   F,     V,      S,     S,    S,      S,        S,     S,          S],
  DELIVERED:  [D,    D,   D,    R,   D,     D,      D,     D,    D,      D,        D,     D,          D],
  READ:       [R,    R,   R,    R,   R,     R,      R,     R,    R,      R,        R,     R,          R],
  FAILED:     [F,    F,   F,    F,   F,     F,      F,     F,    F,      F,        F,     F,          F],
  REVOKED:    [V,    V,   V,    V,   V,     V,      V,     V,    V,      V,        V,     V,          V],
  SUPPRESSED: [X,    X,   X,    X,   X,     X,      X,     X,    X,      X,        X,     X,          X],
};

/** Email differs in one way only: a bounce (FAILED) may arrive after the receiving server accepted it. */
const EMAIL: Record<MessageStatus, readonly MessageStatus[]> = {
  ...NON_EMAIL,
  DELIVERED:  [D,    D,   D,    R,   F,     D,      D,     D,    D,      D,        D,     D,          D],
  READ:       [R,    R,   R,    R,   F,     R,      R,     R,    R,      R,        R,     R,          R],
};

const TABLES: Record<Channel, Record<MessageStatus, readonly MessageStatus[]>> = { RCS: NON_EMAIL, SMS: NON_EMAIL, EMAIL };

const cases = CHANNELS.flatMap((channel) =>
  MESSAGE_STATUSES.flatMap((current) =>
    EVENTS.map((event, column) => ({ channel, current, event, expected: TABLES[channel][current][column]! })),
  ),
);

describe("nextMessageStatus", () => {
  it("the table covers every message status and every canonical event", () => {
    expect([...EVENTS].sort()).toEqual([...RECEIPT_EVENT_TYPES].sort());
    for (const channel of CHANNELS) {
      expect(Object.keys(TABLES[channel]).sort()).toEqual([...MESSAGE_STATUSES].sort());
      for (const row of Object.values(TABLES[channel])) expect(row).toHaveLength(EVENTS.length);
    }
    expect(cases).toHaveLength(CHANNELS.length * MESSAGE_STATUSES.length * RECEIPT_EVENT_TYPES.length);
  });

  it.each(cases)("$channel: $current + $event → $expected", ({ channel, current, event, expected }) => {
    expect(nextMessageStatus(current, event, channel)).toBe(expected);
  });

  it("a late delivered never overwrites read, whatever order the events arrive in", () => {
    const fold = (events: ReceiptEventType[], channel: Channel = "RCS") =>
      events.reduce<MessageStatus>((status, event) => nextMessageStatus(status, event, channel), "QUEUED");
    expect(fold(["READ", "DELIVERED", "SENT", "QUEUED"])).toBe("READ");
    expect(fold(["SENT", "READ", "DELIVERED"])).toBe("READ");
    expect(fold(["DELIVERED", "FAILED", "REVOKED"])).toBe("DELIVERED");
    expect(fold(["SENT", "FAILED", "DELIVERED", "READ"])).toBe("FAILED");
    expect(fold(["SENT", "DELIVERED", "FAILED"], "EMAIL")).toBe("FAILED");
    expect(fold(["SENT", "DELIVERED", "REVOKED"], "EMAIL")).toBe("DELIVERED");
  });
});

describe("deriveTransferStatus", () => {
  const now = new Date("2026-01-17T15:04:05.000Z");
  const live = { revokedAt: null, downloadedAt: null, expiresAt: new Date(now.getTime() + 24 * 3600 * 1000) };
  const messages = (...statuses: MessageStatus[]) => statuses.map((status) => ({ status }));

  const table: Array<{ name: string; transfer: typeof live | { revokedAt: Date | null; downloadedAt: Date | null; expiresAt: Date }; statuses: MessageStatus[]; expected: TransferStatus }> = [
    { name: "no messages", transfer: live, statuses: [], expected: "QUEUED" },
    { name: "one queued message", transfer: live, statuses: [Q], expected: "QUEUED" },
    { name: "sent", transfer: live, statuses: [S], expected: "SENT" },
    { name: "the furthest of several live messages", transfer: live, statuses: [S, D, Q], expected: "DELIVERED" },
    { name: "read beats delivered", transfer: live, statuses: [D, R], expected: "READ" },
    { name: "a failed message beside a live one", transfer: live, statuses: [F, S], expected: "SENT" },
    { name: "a failed RCS beside its queued fallback", transfer: live, statuses: [F, Q], expected: "QUEUED" },
    { name: "a provider-revoked message beside a live one", transfer: live, statuses: [V, D], expected: "DELIVERED" },
    { name: "a suppressed message beside a read one", transfer: live, statuses: [X, R], expected: "READ" },
    { name: "the only message failed", transfer: live, statuses: [F], expected: "FAILED" },
    { name: "every message failed", transfer: live, statuses: [F, F, F], expected: "FAILED" },
    // A transfer is REVOKED only by revokeTransfer: a provider revoke of every message is a failure.
    { name: "every message failed or was revoked by its provider", transfer: live, statuses: [F, V], expected: "FAILED" },
    { name: "revoked by revokeTransfer", transfer: { ...live, revokedAt: now }, statuses: [R], expected: "REVOKED" },
    {
      name: "revoked beats downloaded and expired",
      transfer: { revokedAt: now, downloadedAt: now, expiresAt: new Date(now.getTime() - 1000) },
      statuses: [R],
      expected: "REVOKED",
    },
    { name: "downloaded (above read)", transfer: { ...live, downloadedAt: now }, statuses: [R], expected: "DOWNLOADED" },
    { name: "downloaded while its messages failed", transfer: { ...live, downloadedAt: now }, statuses: [F], expected: "DOWNLOADED" },
    { name: "past expiresAt", transfer: { ...live, expiresAt: new Date(now.getTime() - 1) }, statuses: [D], expected: "EXPIRED" },
    { name: "exactly at expiresAt", transfer: { ...live, expiresAt: now }, statuses: [R], expected: "EXPIRED" },
    { name: "expired with failed messages", transfer: { ...live, expiresAt: new Date(now.getTime() - 1000) }, statuses: [F], expected: "EXPIRED" },
    { name: "expired with no messages", transfer: { ...live, expiresAt: new Date(now.getTime() - 1000) }, statuses: [], expected: "EXPIRED" },
    { name: "one millisecond before expiresAt", transfer: { ...live, expiresAt: new Date(now.getTime() + 1) }, statuses: [S], expected: "SENT" },
  ];

  it.each(table)("$name → $expected", ({ transfer, statuses, expected }) => {
    expect(deriveTransferStatus(transfer, messages(...statuses), now)).toBe(expected);
  });

  it("a failed message whose fallback is pending keeps the transfer QUEUED, not FAILED", () => {
    const pending = [{ status: F as MessageStatus, fallbackAt: new Date(now.getTime() + 60_000) }];
    expect(deriveTransferStatus(live, pending, now)).toBe("QUEUED");
    expect(deriveTransferStatus(live, [{ status: F, fallbackAt: null }], now)).toBe("FAILED");
  });

  it("does not depend on the order of the messages", () => {
    const statuses: MessageStatus[] = [F, Q, D, V, S];
    const forward = deriveTransferStatus(live, messages(...statuses), now);
    const backward = deriveTransferStatus(live, messages(...[...statuses].reverse()), now);
    expect(forward).toBe("DELIVERED");
    expect(backward).toBe("DELIVERED");
  });
});
