import type { MouseEvent, ReactNode } from "react";
import { navigate } from "./router";

/** A link within the app: a plain link for the browser, a page change without reload on an ordinary click. */
export function Link({ to, children, testId }: { to: string; children: ReactNode; testId?: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={follow} data-testid={testId}>
      {children}
    </a>
  );
}
