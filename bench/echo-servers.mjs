// Raw baselines in their own process: `node echo-servers.mjs unix <path>` (NDJSON echo over node:net),
// `node echo-servers.mjs ws` (echo over the ws package), or `node echo-servers.mjs fanout` (ws: every
// message from a client is sent to all the others). Prints "ready <address>".
import net from "node:net";
import { WebSocketServer } from "ws";

const [kind, path] = process.argv.slice(2);
if (kind === "unix") {
  const server = net.createServer((socket) => {
    let buf = "";
    socket.on("data", (chunk) => {
      buf += chunk;
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        socket.write(`${buf.slice(0, nl)}\n`);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
    });
  });
  server.listen(path, () => console.log(`ready ${path}`));
} else if (kind === "fanout") {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (ws) =>
    ws.on("message", (data) => {
      const text = data.toString();
      for (const client of wss.clients) if (client !== ws) client.send(text);
    }),
  );
  wss.on("listening", () => console.log(`ready ws://127.0.0.1:${wss.address().port}`));
} else {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (ws) => ws.on("message", (data) => ws.send(data.toString())));
  wss.on("listening", () => console.log(`ready ws://127.0.0.1:${wss.address().port}`));
}
