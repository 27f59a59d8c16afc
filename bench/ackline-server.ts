import { createAckline } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { serveOverIpc } from "./child.js";

/**
 * A real Ackline (PostgreSQL, Redis, fake CPaaS), configured wholly by the environment the
 * parent passes (DATABASE_URL, REDIS_URL, AUTH_JWT_SECRET, WEBHOOK_GENERIC_SECRET, CPAAS_API_URL,
 * DATA_DIR, LOG_LEVEL=silent, PORT=0), exactly as `npm start` would build it.
 */
serveOverIpc(async () => {
  const ackline = await createAckline(await loadConfig(process.env));
  const url = await ackline.listen();
  return { url, close: () => ackline.close() };
});
