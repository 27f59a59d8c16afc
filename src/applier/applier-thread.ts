import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "../db/client.js";
import { ReceiptApplier } from "../domain/receipt-applier.js";
import { verifyTaps } from "../domain/verify-reply.service.js";
import { createLogger } from "../logger.js";
import { createTransferEvents } from "../pubsub/pubsub.js";
import type { ApplierThreadData, FromApplierThread, ToApplierThread } from "./threaded-applier.js";

/**
 * The receipt applier on a thread of its own: it folds with its own connections and publishes what
 * it folded on its own Redis connection, or, with no Redis, sends it to the main thread's
 * in-process bus. Started by ThreadedReceiptApplier.
 */
const data = workerData as ApplierThreadData;
const port = parentPort!;
const send = (message: FromApplierThread) => port.postMessage(message);
const log = createLogger(data.logLevel).child({ component: "receipt-applier" });

const database = await openDatabase({
  url: data.databaseUrl,
  dataDir: "",
  poolSize: 2,
  connectTimeoutMs: data.connectTimeoutMs,
  statementTimeoutMs: data.statementTimeoutMs,
  migrate: false,
});
const shared = data.pubsub.redisUrl || data.pubsub.redisClusterUrls ? createTransferEvents(data.pubsub, log) : undefined;
const applier = new ReceiptApplier({
  db: database.db,
  publishUpdates: (updates) => {
    if (shared) shared.publishUpdates(updates);
    else send({ type: "updates", updates });
    // Rare, and answered where the adapters are.
    const taps = verifyTaps(updates);
    if (taps.length > 0) send({ type: "verifyTaps", updates: taps });
  },
  onError: (error) => log.error({ err: error }, "folding receipts failed; retrying"),
  backlogLimit: data.backlogLimit,
  onCounted: (events) => send({ type: "backlog", events }),
});

port.on("message", (message: ToApplierThread) => {
  if (message === "wake") applier.wake();
  else if (message === "stop") {
    void applier
      .stop()
      .then(() => Promise.all([database.close(), shared?.close()]))
      .finally(() => port.close());
  }
});
applier.start();
