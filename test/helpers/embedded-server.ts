import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAckline } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";

/** An Ackline with nothing configured (PGlite, generated secrets, the development token), as a newcomer's first start. */
export async function startEmbeddedServer() {
  const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-embedded-"));
  const config = await loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  const ackline = await createAckline(config, createLogger(config.logLevel));
  return {
    url: await ackline.listen(),
    async close() {
      await ackline.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
