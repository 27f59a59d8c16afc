import { serveOverIpc } from "./child.js";
import { startFakeCpaas } from "./fake-cpaas.js";

/**
 * The fake CPaaS in a process of its own, for the dispatch phase: its raw rate is measured with
 * wrk, then Ackline sends to the same process, so both meet the same server. The parent passes the bearer token it must require (FAKE_CPAAS_TOKEN).
 */
serveOverIpc(async () => {
  const token = process.env.FAKE_CPAAS_TOKEN;
  if (!token) throw new Error("FAKE_CPAAS_TOKEN is required");
  return startFakeCpaas(token);
});
