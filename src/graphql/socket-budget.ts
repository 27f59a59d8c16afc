import type { WebSocket } from "ws";
import type { SendBudget } from "../domain/live-updates.js";

/** graphql-ws closes a socket with this code when it cannot keep up with its live updates (as for other caps). */
export const CLOSE_TOO_MANY = 4429;

/**
 * One socket's allowance for live updates waiting to be written (graphql-ws writes an operation's
 * next update once the socket took the previous one). Past it the socket is closed with 4429:
 * its client resumes from the cursor of the last update it received.
 */
export class SocketBudget implements SendBudget {
  private waiting = 0;
  private exceeded = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly limit: number,
  ) {}

  reserve(count: number): boolean {
    if (this.exceeded) return false;
    if (this.waiting + count > this.limit) {
      this.exceeded = true;
      this.socket.close(CLOSE_TOO_MANY, "Too slow: more live updates waiting than allowed; resume from your last cursor");
      return false;
    }
    this.waiting += count;
    return true;
  }

  release(count: number): void {
    this.waiting = Math.max(0, this.waiting - count);
  }
}
