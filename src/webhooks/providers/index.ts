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
