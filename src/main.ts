import { createAckline } from "./app.js";
import { developmentToken } from "./auth/access-tokens.js";
import { ConfigError, loadConfig } from "./config.js";

async function main(): Promise<void> {
  const config = await loadConfig();
  const ackline = await createAckline(config);
  const url = await ackline.listen();
  ackline.log.info(
    { url, database: config.databaseUrl ? "postgres" : "pglite", pubsub: config.redisClusterUrls ? "redis-cluster" : config.redisUrl ? "redis" : "memory", providers: config.providers, role: config.role },
    `Ackline listening on ${url} (GraphQL and graphql-ws at ${url}/graphql, webhooks at ${url}/webhooks/<provider>)`,
  );
  const token = await developmentToken(config);
  if (token) process.stdout.write(`\nDevelopment token (tenant demo, 24 h):\n${token}\n\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ackline.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, "shutting down");
    // Whatever still hangs then (a database that stopped answering) does not keep the process alive.
    setTimeout(() => {
      ackline.log.error({ timeoutMs: config.shutdownTimeoutMs }, "shutdown did not finish within SHUTDOWN_TIMEOUT_MS; exiting anyway");
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    ackline.close().then(
      () => process.exit(0),
      (error: unknown) => {
        ackline.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
