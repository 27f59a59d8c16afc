import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../src/logger.js";

/** A logger at `info` whose lines are kept, parsed, in `lines` (for tests that assert what was logged). */
export function capturingLogger<Line>(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = pino(
    { level: "info" },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString("utf8")) as Line);
        done();
      },
    }),
  );
  return { log, lines };
}
