const STORAGE_KEY = "ackline.token";

/**
 * The access token the app calls the API with: from `#token=<jwt>` in the URL (taken out of the
 * address at once, so it is not left in the history), else the one pasted into the sign-in form
 * earlier, kept in this tab's session storage.
 */
export function initialToken(): string | null {
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get("token");
  if (fromHash) {
    saveToken(fromHash);
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    return fromHash;
  }
  return sessionStorage.getItem(STORAGE_KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(STORAGE_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The tenant a token speaks for, read from its claims (the server verifies it; this only labels the page). */
export function tenantOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { tenant_id?: string };
    return claims.tenant_id;
  } catch {
    return undefined;
  }
}
