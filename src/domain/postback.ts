/** What Ackline's RCS suggestions do when tapped: open the download link, or ask who sent it. */
export type SuggestionAction = "download" | "verify";

/** The postback an Ackline suggestion carries: `<action>:<transfer id>`, echoed back by every provider on a tap. */
export function postbackFor(action: SuggestionAction, transferId: string): string {
  return `${action}:${transferId}`;
}

/** The action and transfer a tapped suggestion names; undefined when the postback is not one of Ackline's. */
export function parsePostback(postback: unknown): { action: string; transferId: string } | undefined {
  const match = typeof postback === "string" ? /^([^:]+):(tx_[A-Za-z0-9_-]+)$/.exec(postback) : null;
  return match ? { action: match[1]!, transferId: match[2]! } : undefined;
}
