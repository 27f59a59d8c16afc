import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { serveOverIpc } from "./child.js";

/** The baseline: the cheapest useful HTTP server Node can run, in a process of its own. */
serveOverIpc(async () => {
  const body = Buffer.from("hello");
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
