import { type KeyObject, X509Certificate } from "node:crypto";
import { retryLater, unauthorized } from "./provider.js";

/** SNS's own hosts: `sns.<region>.amazonaws.com`, and `.com.cn` in China. */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const CERTIFICATE_PATH = /^\/[A-Za-z0-9._-]+\.pem$/;
const FETCH_TIMEOUT_MS = 10_000;

/** A URL on one of SNS's hosts, over https, with no port, credentials or fragment; undefined otherwise. */
export function snsUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const onSns = url.protocol === "https:" && SNS_HOST.test(url.hostname) && !url.port && !url.username && !url.password && !url.hash;
  return onSns ? url : undefined;
}

/** A signing certificate's URL: on an SNS host, a path ending in `.pem`, no query. */
function certificateUrl(value: string): URL | undefined {
  const url = snsUrl(value);
  return url && !url.search && CERTIFICATE_PATH.test(url.pathname) ? url : undefined;
}

export type CertificateFetch = (url: string, init: RequestInit) => Promise<Response>;

function publicKeyOf(pem: string): KeyObject {
  return new X509Certificate(pem).publicKey;
}

/**
 * The public keys SNS signs with, by certificate URL: seeded from `SNS_CERTIFICATES`, otherwise
 * fetched once (never from any host but SNS's, never following a redirect) and kept.
 */
export class SnsCertificates {
  private readonly keys = new Map<string, Promise<KeyObject>>();

  constructor(private readonly fetchCertificate: CertificateFetch = (url, init) => globalThis.fetch(url, init)) {}

  /** Adds known certificates (URL → PEM); a URL that is not an SNS certificate's is a configuration error. */
  seed(certificates: Readonly<Record<string, string>>): void {
    for (const [value, pem] of Object.entries(certificates)) {
      const url = certificateUrl(value);
      if (!url) throw new Error(`SNS_CERTIFICATES: ${value} is not an https://sns.<region>.amazonaws.com/….pem URL`);
      this.keys.set(url.href, Promise.resolve(publicKeyOf(pem)));
    }
  }

  /** The key of the certificate at `value`; refused (401) unless it is an SNS certificate URL. */
  publicKey(value: string): Promise<KeyObject> {
    const url = certificateUrl(value);
    if (!url) return Promise.reject(unauthorized(`SigningCertURL ${JSON.stringify(value)} is not an SNS certificate URL`));
    let key = this.keys.get(url.href);
    if (!key) {
      key = this.download(url.href);
      this.keys.set(url.href, key);
      // A failed download is tried again by the next delivery (SNS retries a 503).
      key.catch(() => this.keys.delete(url.href));
    }
    return key;
  }

  private async download(href: string): Promise<KeyObject> {
    let response: Response;
    try {
      response = await this.fetchCertificate(href, { redirect: "error", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    } catch (error) {
      throw retryLater(`SNS certificate ${href} could not be fetched: ${(error as Error).message}`);
    }
    if (response.status >= 500) throw retryLater(`SNS certificate ${href}: HTTP ${response.status}`);
    if (!response.ok) throw unauthorized(`SNS certificate ${href}: HTTP ${response.status}`);
    try {
      return publicKeyOf(await response.text());
    } catch {
      throw unauthorized(`SNS certificate ${href} is not a PEM certificate`);
    }
  }
}

/** The process's certificate cache, shared by every SES door. */
export const snsCertificates = new SnsCertificates();
