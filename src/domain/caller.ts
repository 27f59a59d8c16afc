import type { Principal } from "../auth/access-tokens.js";

/** Who asked, from where: every change lands in the audit log with it. */
export interface Caller {
  principal: Principal;
  ip?: string;
  client?: string;
}

/** The recipient, acting through a signed link: audited under the tenant whose transfer it is. */
export function recipientOf(tenantId: string, client: { ip?: string; userAgent?: string }): Caller {
  return { principal: { tenantId, subject: "recipient", scopes: new Set(), expiresAt: 0 }, ip: client.ip, client: client.userAgent };
}
