import { z } from "zod";
import { DomainError } from "./errors.js";

/** How a transfer's links behave: how long one works after it is sent, how many downloads, whether an OTP guards them. */
export interface TransferSecurity {
  /** Minutes a link works after its notification is sent (never past the transfer's expiry); null: until the transfer expires. */
  linkTtlMinutes: number | null;
  /** Downloads the links allow in all; null: no limit. */
  maxDownloads: number | null;
  requireOtp: boolean;
}

/** A tenant's defaults for new transfers, with compliance mode and residency. */
export interface SecurityPolicy extends TransferSecurity {
  /** One switch: OTP forced on, link TTL at most 60 minutes, at most one download, audit trail kept 7 years. */
  complianceMode: boolean;
  /** Transfers may be created only on a deployment whose STORAGE_REGION is this one; null: anywhere. */
  pinnedRegion: string | null;
  /** How long the audit trail must be kept (days); null: no commitment. Ackline itself deletes no audit entry. */
  auditRetentionDays: number | null;
}

/** What compliance mode forces. */
export const COMPLIANCE = { maxLinkTtlMinutes: 60, maxDownloads: 1, auditRetentionDays: 7 * 365 + 2 } as const;

const MAX_LINK_TTL_MINUTES = 90 * 24 * 60;

export const DEFAULT_SECURITY_POLICY: SecurityPolicy = {
  linkTtlMinutes: null,
  maxDownloads: null,
  requireOtp: false,
  complianceMode: false,
  pinnedRegion: null,
  auditRetentionDays: null,
};

const linkTtlMinutes = z.number().int().min(1, "linkTtlMinutes must be at least 1").max(MAX_LINK_TTL_MINUTES, "linkTtlMinutes must be within 90 days");
const maxDownloads = z.number().int().min(1, "maxDownloads must be at least 1").max(1_000_000);

/** A transfer's own request: each field left out takes the tenant's default. */
export const transferSecurityInputSchema = z.object({
  linkTtlMinutes: linkTtlMinutes.optional(),
  maxDownloads: maxDownloads.optional(),
  requireOtp: z.boolean().optional(),
});
export type TransferSecurityInput = z.input<typeof transferSecurityInputSchema>;

export const securityPolicySchema = z.object({
  linkTtlMinutes: linkTtlMinutes.nullable(),
  maxDownloads: maxDownloads.nullable(),
  requireOtp: z.boolean(),
  complianceMode: z.boolean(),
  pinnedRegion: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "pinnedRegion must be a region name such as eu-central-1")
    .nullable(),
  auditRetentionDays: z.number().int().min(1).max(100 * 365).nullable(),
});

/** Compliance mode's caps over any security: OTP on, link TTL at most 60 minutes, one download. */
function capped(security: TransferSecurity): TransferSecurity {
  return {
    linkTtlMinutes: Math.min(security.linkTtlMinutes ?? COMPLIANCE.maxLinkTtlMinutes, COMPLIANCE.maxLinkTtlMinutes),
    maxDownloads: Math.min(security.maxDownloads ?? COMPLIANCE.maxDownloads, COMPLIANCE.maxDownloads),
    requireOtp: true,
  };
}

/** The policy as it applies: with compliance mode on, its caps and the 7-year audit retention are part of it. */
export function normalizedPolicy(policy: SecurityPolicy): SecurityPolicy {
  if (!policy.complianceMode) return policy;
  return { ...policy, ...capped(policy), auditRetentionDays: Math.max(policy.auditRetentionDays ?? 0, COMPLIANCE.auditRetentionDays) };
}

/** A stored policy (possibly older, with fewer fields) read with the defaults filled in. */
export function securityPolicyOf(stored: Partial<SecurityPolicy> | undefined): SecurityPolicy {
  return { ...DEFAULT_SECURITY_POLICY, ...stored };
}

/** A transfer's stored security, with the defaults for fields a transfer created before them lacks. */
export function securityOf(stored: Partial<TransferSecurity> | null | undefined): TransferSecurity {
  return { linkTtlMinutes: stored?.linkTtlMinutes ?? null, maxDownloads: stored?.maxDownloads ?? null, requireOtp: stored?.requireOtp ?? false };
}

/**
 * A new transfer's security: its own request over the tenant's defaults, under compliance mode's
 * caps. A tenant pinned to another region cannot create transfers on this deployment (CONFLICT).
 */
export function securityForNewTransfer(policy: SecurityPolicy, requested: TransferSecurityInput, storageRegion: string | undefined): TransferSecurity {
  if (policy.pinnedRegion && policy.pinnedRegion !== storageRegion) {
    throw new DomainError("CONFLICT", `the tenant's data must stay in ${policy.pinnedRegion}; this deployment stores in ${storageRegion ?? "no declared region"}`, {
      pinnedRegion: policy.pinnedRegion,
      storageRegion: storageRegion ?? null,
    });
  }
  const security: TransferSecurity = {
    linkTtlMinutes: requested.linkTtlMinutes ?? policy.linkTtlMinutes,
    maxDownloads: requested.maxDownloads ?? policy.maxDownloads,
    requireOtp: requested.requireOtp ?? policy.requireOtp,
  };
  return policy.complianceMode ? capped(security) : security;
}

/** When a link sent at `sentAt` stops working: its TTL after sending, never past the transfer's expiry. */
export function linkExpiresAt(transfer: { expiresAt: Date; securityPolicy: Partial<TransferSecurity> }, sentAt: Date): Date {
  const { linkTtlMinutes } = securityOf(transfer.securityPolicy);
  if (linkTtlMinutes === null) return transfer.expiresAt;
  return new Date(Math.min(transfer.expiresAt.getTime(), sentAt.getTime() + linkTtlMinutes * 60_000));
}
