import { useEffect, useState } from "react";
import type { ApiError } from "./api";

/** What a page shows while it loads, once it has data, or when the API refused. */
export type Loaded<T> = { state: "loading" } | { state: "ready"; data: T } | { state: "failed"; error: ApiError };

/** Runs `load` whenever `key` changes, ignoring answers that arrive after the page moved on. */
export function useLoaded<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    let current = true;
    setLoaded({ state: "loading" });
    load().then(
      (data) => current && setLoaded({ state: "ready", data }),
      (error: ApiError) => current && setLoaded({ state: "failed", error }),
    );
    return () => {
      current = false;
    };
    // `load` is a fresh closure each render; `key` says when it asks for something else.
  }, [key]);
  return loaded;
}

export function ErrorNote({ error }: { error: ApiError }) {
  return (
    <p className="error" role="alert">
      {error.message}
      {error.code ? ` (${error.code})` : ""}
    </p>
  );
}

export const formatTime = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
