import { Worker } from "node:worker_threads";
import type { Applier } from "../domain/receipt-applier.js";
import type { TransferUpdate } from "../domain/model.js";
import type { RedisTarget } from "../pubsub/pubsub.js";

export interface ApplierThreadData {
  databaseUrl: string;
  connectTimeoutMs: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS, for the thread's own connections too. */
  statementTimeoutMs: number;
  backlogLimit: number;
  logLevel: string;
  /** Where instances share updates: with Redis the thread publishes them itself; without, it hands them to the main thread's in-process bus. */
  pubsub: RedisTarget;
}

export type ToApplierThread = "wake" | "stop";
export type FromApplierThread =
  | { type: "updates"; updates: TransferUpdate[] }
  /** Verify ID taps it folded (sent whether or not it publishes itself): the main thread answers them. */
  | { type: "verifyTaps"; updates: TransferUpdate[] }
  | { type: "backlog"; events: number };

/** A thread that dies unexpectedly is started again after this long. */
const RESTART_DELAY_MS = 1000;
/** How long stop() waits for the thread to finish its fold before ending it. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * Runs the receipt applier on a worker thread. Folding is most of the CPU a receipt costs after
 * it is acknowledged (correlation, row mapping, the fold itself): on its own thread it no longer
 * competes with the webhook door and GraphQL for the event loop, and uses a second core.
 * Subscribers see exactly what they would with the applier in-process: with Redis the thread
 * publishes what it folded on its own connection, so the main thread neither copies nor
 * serializes updates nobody here may be watching; with the in-process bus they come back here to
 * be published. Only for PostgreSQL: PGlite is one connection inside this thread.
 */
export class ThreadedReceiptApplier implements Applier {
  private worker: Worker | undefined;
  private counted = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ApplierThreadData & {
      publishUpdates(updates: TransferUpdate[]): void;
      /** Told the Verify ID taps the thread folded, to answer them here (where the adapters are). */
      answerVerifyTaps(updates: TransferUpdate[]): void;
      onError(error: unknown): void;
    },
  ) {}

  start(): void {
    this.stopping = false;
    const { databaseUrl, connectTimeoutMs, statementTimeoutMs, backlogLimit, logLevel, pubsub } = this.options;
    const workerData: ApplierThreadData = { databaseUrl, connectTimeoutMs, statementTimeoutMs, backlogLimit, logLevel, pubsub };
    // Run from TypeScript sources (development, tests), the thread loads its module through tsx too.
    const worker = import.meta.url.endsWith(".ts")
      ? new Worker(`import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(new URL("./applier-thread.ts", import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`, {
          eval: true,
          workerData,
        })
      : new Worker(new URL("./applier-thread.js", import.meta.url), { workerData });
    worker.on("message", (message: FromApplierThread) => {
      if (message.type === "updates") this.options.publishUpdates(message.updates);
      else if (message.type === "verifyTaps") this.options.answerVerifyTaps(message.updates);
      else this.counted = message.events;
    });
    worker.on("error", (error) => this.options.onError(error));
    worker.on("exit", (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.stopping) return;
      this.options.onError(new Error(`the receipt applier's thread exited (code ${code}); starting it again`));
      this.restartTimer = setTimeout(() => this.start(), RESTART_DELAY_MS);
    });
    this.worker = worker;
  }

  wake(): void {
    this.worker?.postMessage("wake" satisfies ToApplierThread);
  }

  saturated(): boolean {
    return this.counted >= this.options.backlogLimit;
  }

  /** Lets the fold in progress finish (its events would be folded again anyway) and the thread close its connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage("stop" satisfies ToApplierThread);
    const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    this.worker = undefined;
  }
}
