import { createServer } from "node:http";
import { listenOnLoopback, serveOverIpc } from "./child.js";

/**
 * The bare server: the cheapest useful HTTP server Node can run, in a process of its own. It reads
 * each request's body before answering, as any webhook door must.
 */
serveOverIpc(async () => {
  const body = Buffer.from("hello");
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
      response.end(body);
    });
  });
  return listenOnLoopback(server);
});
