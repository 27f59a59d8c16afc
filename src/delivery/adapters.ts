import type { Config, MessagingProvider } from "../config.js";
import type { Channel } from "../domain/model.js";
import type { Logger } from "../logger.js";
import type { DeliveryAdapter } from "./adapter.js";
import { createEmailAdapter } from "./email.adapter.js";
import { createGenericCpaasAdapter } from "./generic-cpaas.adapter.js";
import { createSimulatorFetch } from "./simulator.js";
import { createTwilioAdapter } from "./twilio.adapter.js";
import { createVonageAdapter } from "./vonage.adapter.js";

/**
 * The adapter for every channel, as configured: RCS and SMS each through the simulator, the
 * generic CPaaS, Twilio or Vonage; email over SMTP (or logged). `config` has already checked that
 * each chosen provider has its credentials.
 */
export function createAdapters(
  config: Config,
  options: {
    /** Where the in-process simulator posts its receipts (this server, as it listens). */
    webhookUrl: () => string;
    /** Where a real provider must post receipts to reach a door: the public base URL, known once listening. */
    publicWebhookUrl: (door: "twilio" | "vonage") => string;
    log: Logger;
  },
) {
  let simulator: ReturnType<typeof createSimulatorFetch> | undefined;
  const build: Record<MessagingProvider, () => DeliveryAdapter> = {
    simulator: () => {
      simulator ??= createSimulatorFetch({
        webhookUrl: options.webhookUrl,
        secret: config.webhookSecrets.generic ?? "",
        stepMs: config.simulatorStepMs,
        log: options.log.child({ component: "simulator" }),
      });
      return createGenericCpaasAdapter({ apiUrl: "http://simulator.invalid", provider: "simulator", fetch: simulator });
    },
    cpaas: () => createGenericCpaasAdapter({ apiUrl: config.cpaas!.apiUrl, token: config.cpaas!.token, provider: "cpaas" }),
    // Each message names its receipt door, overriding whatever the provider's console says.
    twilio: () => createTwilioAdapter({ ...config.twilio!, statusCallbackUrl: () => options.publicWebhookUrl("twilio") }),
    vonage: () => createVonageAdapter({ ...config.vonage!, statusWebhookUrl: () => options.publicWebhookUrl("vonage") }),
  };
  const messaging = new Map<MessagingProvider, DeliveryAdapter>();
  const forProvider = (provider: MessagingProvider) => messaging.get(provider) ?? messaging.set(provider, build[provider]()).get(provider)!;
  const adapters: Record<Channel, DeliveryAdapter> = {
    RCS: forProvider(config.providers.RCS),
    SMS: forProvider(config.providers.SMS),
    EMAIL: createEmailAdapter({ smtpUrl: config.smtpUrl, from: config.emailFrom, log: options.log }),
  };
  return { adapters, stopSimulator: () => simulator?.stop() };
}
