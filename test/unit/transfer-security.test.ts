import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { DEFAULT_SECURITY_POLICY, linkExpiresAt, normalizedPolicy, securityForNewTransfer } from "../../src/domain/transfer-security.js";

describe("transfer security: defaults, compliance caps, residency, link expiry", () => {
  const compliance = { ...DEFAULT_SECURITY_POLICY, complianceMode: true };

  it("compliance mode forces OTP, at most 60 minutes and one download, whatever is asked", () => {
    expect(securityForNewTransfer(compliance, { linkTtlMinutes: 600, maxDownloads: 9, requireOtp: false }, undefined)).toEqual({ linkTtlMinutes: 60, maxDownloads: 1, requireOtp: true });
    expect(securityForNewTransfer(compliance, { linkTtlMinutes: 10 }, undefined)).toEqual({ linkTtlMinutes: 10, maxDownloads: 1, requireOtp: true });
    expect(normalizedPolicy(compliance)).toMatchObject({ linkTtlMinutes: 60, maxDownloads: 1, requireOtp: true, auditRetentionDays: 2557 });
    expect(normalizedPolicy({ ...compliance, auditRetentionDays: 4000 }).auditRetentionDays).toBe(4000);
  });

  it("a pinned region other than this deployment's is a CONFLICT, also when this one declares none", () => {
    const pinned = { ...DEFAULT_SECURITY_POLICY, pinnedRegion: "eu-central-1" };
    expect(() => securityForNewTransfer(pinned, {}, "us-east-1")).toThrow(DomainError);
    expect(() => securityForNewTransfer(pinned, {}, undefined)).toThrow(/eu-central-1/);
    expect(securityForNewTransfer(pinned, {}, "eu-central-1")).toEqual({ linkTtlMinutes: null, maxDownloads: null, requireOtp: false });
  });

  it("a link works for its TTL after the send, never past the transfer's expiry", () => {
    const sentAt = new Date("2026-01-01T10:00:00Z");
    const expiresAt = new Date("2026-01-01T10:30:00Z");
    expect(linkExpiresAt({ expiresAt, securityPolicy: { linkTtlMinutes: 15 } }, sentAt)).toEqual(new Date("2026-01-01T10:15:00Z"));
    expect(linkExpiresAt({ expiresAt, securityPolicy: { linkTtlMinutes: 60 } }, sentAt)).toEqual(expiresAt);
    expect(linkExpiresAt({ expiresAt, securityPolicy: {} }, sentAt)).toEqual(expiresAt);
  });
});
