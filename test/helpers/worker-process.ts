import { createAckline } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";

/** An Ackline process configured by its environment, for tests that kill it; says "ready <url>" on stdout. */
const ackline = await createAckline(await loadConfig(process.env));
const url = await ackline.listen();
process.stdout.write(`ready ${url}\n`);
