/** What a PostgreSQL client asked of the server, counted from its side of the wire protocol. */
export interface WireCounts {
  /** Statements run: simple queries and extended-protocol executes (BEGIN and COMMIT included). */
  statements: number;
}

const SSL_REQUEST = 80_877_103;
const GSS_REQUEST = 80_877_104;

/**
 * Counts the statements of every connection it observes (a `startFreezableProxy`
 * observer): frontend messages are a type byte and a length, after an untyped start-up message.
 */
export function countPostgresWire(): { counts: WireCounts; observeClient: () => (chunk: Buffer) => void; reset(): void } {
  const counts: WireCounts = { statements: 0 };
  const observeClient = () => {
    let buffered = Buffer.alloc(0);
    let started = false;
    return (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headerLength = started ? 5 : 4;
        if (buffered.length < headerLength) return;
        const length = started ? buffered.readInt32BE(1) + 1 : buffered.readInt32BE(0);
        if (buffered.length < length) return;
        if (!started) {
          // An SSL or GSS request is answered with one byte and followed by the real start-up message.
          const code = buffered.readInt32BE(4);
          started = code !== SSL_REQUEST && code !== GSS_REQUEST;
        } else {
          const type = String.fromCharCode(buffered[0]!);
          if (type === "Q" || type === "E") counts.statements += 1;
        }
        buffered = buffered.subarray(length);
      }
    };
  };
  return {
    counts,
    observeClient,
    reset() {
      counts.statements = 0;
    },
  };
}
