// A relay embedded in a program: two agents on a bundle socket, a transport that hands each
// message to its target (here: prints it), and the client library on both ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BUILTIN_CONTROLS,
  bundlePaths,
  hostRelay,
  MemoryMailbox,
  RelayClient,
  RelayServer,
  secureBundleDir,
  staticDirectory,
} from "@agentmux/relay";

const state = mkdtempSync(join(tmpdir(), "relay-example-"));
const uid = process.geteuid();

/** Where a message goes: a real transport types it into a pane or hands it to an agent session. */
const printer = {
  kind: "print",
  async deliver(d) {
    console.log(`${d.targetSession} got from ${d.senderSession}: ${d.body}`);
    return { outcome: "delivered" };
  },
  async look(target, lines) {
    return { format: "lines", lines: [`(the last ${lines} lines of ${target})`] };
  },
};

const members = ["ada", "brian"].map((id) => ({ id, transport: printer, controls: BUILTIN_CONTROLS }));
const relay = new RelayServer({
  bundleName: "demo",
  directory: staticDirectory({ members, uis: [] }),
  mailbox: new MemoryMailbox(),
});
const paths = bundlePaths(state, "demo");
secureBundleDir(paths.dir, { uid });
const hosted = await hostRelay({ paths, uid, bundleName: "demo", onConnection: (s) => relay.handleConnection(s) });

const connect = (sessionId) =>
  RelayClient.connect({ socketPath: paths.socket, bundleName: "demo", sessionId, clientClass: "agent" });
const ada = await connect("ada");
const brian = await connect("brian");

const sent = await ada.send({ message: "can you review my branch?", targets: ["brian"], deliveryMode: "sync" });
console.log(`send: ${sent.status}, ${sent.results.map((r) => `${r.target_session} ${r.outcome}`).join(", ")}`);
try {
  // The sender is who the stream said it was at hello: nobody can send as someone else.
  await brian.request({ operation: "chat", sender_session: "ada", message: "forged", targets: ["brian"] });
} catch (err) {
  console.log(`forged send: ${err.code}`);
}

ada.close();
brian.close();
await relay.close();
await hosted.close();
rmSync(state, { recursive: true, force: true });
