import { useEffect, useState } from "react";

export type Route = { page: "transfers" } | { page: "transfer"; id: string } | { page: "stats" };

/** The app's pages under /app: the recent transfers, one transfer, the statistics. */
export function routeOf(pathname: string): Route {
  const transfer = /^\/app\/transfers\/([^/]+)\/?$/.exec(pathname);
  if (transfer) return { page: "transfer", id: decodeURIComponent(transfer[1]!) };
  if (/^\/app\/stats\/?$/.test(pathname)) return { page: "stats" };
  return { page: "transfers" };
}

/** Moves to another page of the app without reloading it. */
export function navigate(path: string): void {
  window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(window.location.pathname));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(window.location.pathname));
    window.addEventListener("popstate", onChange);
    return () => window.removeEventListener("popstate", onChange);
  }, []);
  return route;
}
