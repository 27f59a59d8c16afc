import { DomainError } from "../../domain/errors.js";
import type { WebhookProvider } from "../provider.js";
import { enablex } from "./enablex.js";
import { generic } from "./generic.js";
import { infobip } from "./infobip.js";
import { mailgun } from "./mailgun.js";
import { rbm } from "./rbm.js";
import { sendgrid } from "./sendgrid.js";
import { ses } from "./ses.js";
import { sinch } from "./sinch.js";
import { standard } from "./standard.js";
import { twilio } from "./twilio.js";
import { vonage } from "./vonage.js";

/** Every door of the side-door, by the path segment it answers on. */
export const webhookProviders: ReadonlyMap<string, WebhookProvider> = new Map(
  [
    generic,
    enablex,
    standard,
    // RCS and SMS
    twilio,
    vonage,
    rbm,
    sinch,
    infobip,
    // Email
    sendgrid,
    mailgun,
    ses,
  ].map((provider): [string, WebhookProvider] => [provider.name, provider]),
);

/** A tenant's secrets for a new source of `provider`: exactly the keys its door verifies with. */
export function validateSourceSecrets(providerName: string, secrets: Record<string, unknown>): Record<string, string> {
  const provider = webhookProviders.get(providerName);
  if (!provider) {
    throw new DomainError("BAD_USER_INPUT", `unknown provider ${providerName}: one of ${[...webhookProviders.keys()].join(", ")}`, { field: "provider" });
  }
  const parsed = provider.sourceSecrets.safeParse(secrets);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ["secrets", ...issue.path].join(".");
    throw new DomainError("BAD_USER_INPUT", `${field}: ${issue.message}`, { field });
  }
  // Valid means exactly the provider's keys, each a string: kept as given, as the tenant named them.
  return secrets as Record<string, string>;
}
