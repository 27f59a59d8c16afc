import { describe, expect, it } from "vitest";
import {
  DEFAULT_DELIVERY_POLICY,
  type DeliveryPolicy,
  fallbackAfter,
  fallbackChannel,
  fallbackDueAt,
  initialMessages,
  policyOf,
} from "../../src/domain/delivery-policy.js";
import type { Channel, MessageStatus } from "../../src/domain/model.js";

const now = new Date("2026-11-23T10:00:00.000Z");
const inMinutes = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
const policy = (changes: Partial<DeliveryPolicy> = {}): DeliveryPolicy => ({ ...DEFAULT_DELIVERY_POLICY, ...changes });
const both = { recipientPhone: "+14165550100", recipientEmail: "r@example.com" };
const phoneOnly = { recipientPhone: "+14165550100", recipientEmail: null };
const emailOnly = { recipientPhone: null, recipientEmail: "r@example.com" };

describe("initialMessages", () => {
  it.each([
    { name: "default, phone and email: RCS now and an email copy", policy: policy(), recipient: both, expected: [["RCS", 0], ["EMAIL", 0]] },
    { name: "default, phone only: RCS", policy: policy(), recipient: phoneOnly, expected: [["RCS", 0]] },
    { name: "email only: email, whatever the policy", policy: policy({ emailCopy: "NEVER" }), recipient: emailOnly, expected: [["EMAIL", 0]] },
    { name: "ON_FAILURE: no email copy at first", policy: policy({ emailCopy: "ON_FAILURE" }), recipient: both, expected: [["RCS", 0]] },
    { name: "email now, RCS 30 minutes later", policy: policy({ rcsDelayMinutes: 30 }), recipient: both, expected: [["RCS", 30], ["EMAIL", 0]] },
  ])("$name", ({ policy, recipient, expected }) => {
    const planned = initialMessages(policy, recipient, now);
    expect(planned.map((message) => [message.channel, (message.notBefore.getTime() - now.getTime()) / 60_000])).toEqual(expected);
    expect(planned.every((message) => message.reason.length > 0)).toBe(true);
  });
});

describe("fallbackChannel", () => {
  const table: Array<[string, DeliveryPolicy, Channel, typeof both | typeof phoneOnly, Channel | null]> = [
    ["RCS → SMS by default", policy(), "RCS", both, "SMS"],
    ["SMS → nothing with an email copy already sent", policy(), "SMS", both, null],
    ["RCS → email when SMS fallback is off and email is the last resort", policy({ fallbackToSms: false, emailCopy: "ON_FAILURE" }), "RCS", both, "EMAIL"],
    ["SMS → email as the last resort", policy({ emailCopy: "ON_FAILURE" }), "SMS", both, "EMAIL"],
    ["SMS → nothing without an email address", policy({ emailCopy: "ON_FAILURE" }), "SMS", phoneOnly, null],
    ["RCS → nothing with every fallback off", policy({ fallbackToSms: false, emailCopy: "NEVER" }), "RCS", both, null],
    ["email never falls back", policy({ emailCopy: "ON_FAILURE" }), "EMAIL", both, null],
  ];
  it.each(table)("%s", (_name, policy, channel, recipient, expected) => {
    expect(fallbackChannel(policy, channel, recipient)).toBe(expected);
  });
});

describe("fallbackDueAt", () => {
  const transfer = { ...both, expiresAt: inMinutes(24 * 60) };
  it("arms the timer the policy's minutes after the message may first go", () => {
    expect(fallbackDueAt(policy({ fallbackAfterMinutes: 15 }), "RCS", transfer, inMinutes(30))).toEqual(inMinutes(45));
  });
  it("with failure-only fallback, arms it until the transfer expires (a failure makes it due)", () => {
    expect(fallbackDueAt(policy({ fallbackAfterMinutes: null }), "RCS", transfer, now)).toEqual(transfer.expiresAt);
  });
  it("never past the transfer's expiry", () => {
    expect(fallbackDueAt(policy({ fallbackAfterMinutes: 90 }), "RCS", { ...transfer, expiresAt: inMinutes(60) }, now)).toEqual(inMinutes(60));
  });
  it("arms nothing where there is nowhere to fall back to", () => {
    expect(fallbackDueAt(policy(), "EMAIL", transfer, now)).toBeNull();
    expect(fallbackDueAt(policy({ fallbackToSms: false, emailCopy: "NEVER" }), "RCS", transfer, now)).toBeNull();
  });
});

describe("fallbackAfter (the timer once the status moved)", () => {
  const armed = inMinutes(15);
  const table: Array<[MessageStatus, Date | null, Date | null]> = [
    ["QUEUED", armed, armed],
    ["SENT", armed, armed],
    ["DELIVERED", armed, null],
    ["READ", armed, null],
    ["FAILED", armed, now],
    ["FAILED", inMinutes(-5), inMinutes(-5)],
    ["REVOKED", armed, now],
    ["SUPPRESSED", armed, null],
    ["FAILED", null, null],
  ];
  it.each(table)("%s with %s → %s", (status, fallbackAt, expected) => {
    expect(fallbackAfter({ status, fallbackAt }, now)).toEqual(expected);
  });
});

describe("policyOf", () => {
  it("completes a stored policy with the defaults, and gives the default for none", () => {
    expect(policyOf(null)).toEqual(DEFAULT_DELIVERY_POLICY);
    expect(policyOf({ emailCopy: "NEVER" })).toEqual({ ...DEFAULT_DELIVERY_POLICY, emailCopy: "NEVER" });
  });
});
