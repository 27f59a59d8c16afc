import { type FormEvent, useState } from "react";

/** Paste an access token (or open the app with `#token=<jwt>`). */
export function SignIn({ onToken }: { onToken: (token: string) => void }) {
  const [token, setToken] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) onToken(token.trim());
  };
  return (
    <form className="sign-in" onSubmit={submit}>
      <h1>Ackline</h1>
      <label htmlFor="token">Access token</label>
      <textarea id="token" name="token" rows={5} value={token} onChange={(event) => setToken(event.target.value)} placeholder="eyJhbGciOi…" />
      <button type="submit">Sign in</button>
      <p className="hint">The token stays in this tab only. The server's root page shows the development token when it runs on its embedded default.</p>
    </form>
  );
}
