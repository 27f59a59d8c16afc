import { useMemo, useState } from "react";
import { Api } from "./api";
import { Link } from "./Link";
import { StatsPage } from "./pages/StatsPage";
import { TransferPage } from "./pages/TransferPage";
import { TransfersPage } from "./pages/TransfersPage";
import { useRoute } from "./router";
import { forgetToken, initialToken, saveToken, tenantOf } from "./session";
import { SignIn } from "./SignIn";

export function App() {
  const [token, setToken] = useState(initialToken);
  const route = useRoute();
  const api = useMemo(() => (token ? new Api(token) : null), [token]);
  if (!token || !api) {
    return (
      <SignIn
        onToken={(pasted) => {
          saveToken(pasted);
          setToken(pasted);
        }}
      />
    );
  }
  const signOut = () => {
    api.dispose();
    forgetToken();
    setToken(null);
  };
  return (
    <div className="shell">
      <header>
        <strong>Ackline</strong>
        <nav>
          <Link to="/app">Transfers</Link>
          <Link to="/app/stats">Statistics</Link>
          <a href="/graphql">API explorer</a>
        </nav>
        <span className="tenant">{tenantOf(token)}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === "transfers" && <TransfersPage api={api} />}
        {route.page === "transfer" && <TransferPage key={route.id} api={api} id={route.id} />}
        {route.page === "stats" && <StatsPage api={api} />}
      </main>
    </div>
  );
}
