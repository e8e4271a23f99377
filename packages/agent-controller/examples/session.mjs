// One agent session, end to end: send a message, allow the tool the agent asks for, print every
// transcript line and the final status, stop. The agent is examples/fake-claude.mjs, a stand-in
// that speaks the claude CLI's stream-json protocol; leave out `spawn` to run the real `claude`.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ConversationClaims, claude, createSession } from "@agentmux/agent-controller";

const standIn = fileURLToPath(new URL("fake-claude.mjs", import.meta.url));
const claims = new ConversationClaims(); // one per app: one live process per conversation
const session = createSession({
  provider: claude(), // permissions: "ask" (the default): tool requests arrive in status.needsInput
  cwd: process.cwd(),
  env: process.env,
  claims,
  // `node fake-claude.mjs <claude's argv>` in place of `claude <argv>` from PATH.
  spawn: (_command, args, options) => spawn(process.execPath, [standIn, ...args], options),
});

// Every line the agent prints, with its byte offset in the transcript (control lines are not kept).
session.output$.subscribe(({ offset, data }) => process.stdout.write(`output @${offset}: ${data}`));

const turnEnded = new Promise((resolve) => {
  session.status$.subscribe((s) => {
    for (const r of s.needsInput) {
      console.log(`permission asked: ${r.tool} ${JSON.stringify(r.input)} -> allow`);
      session.respond(r.requestId, { behavior: "allow" });
    }
    if (s.fault) console.error(`fault: ${s.fault.kind}: ${s.fault.message}`);
    if ((s.lastTurn !== null && !s.turnActive) || s.status === "done") resolve(s);
  });
});

session.send("Summarise the README in one line"); // spawns the agent; later sends go to the same process
const s = await turnEnded;
if (s.status === "done") {
  console.error(`the agent exited before its turn ended (exit code ${s.exitCode})`);
  process.exit(1);
}
console.log(`turn ended: status ${s.status}, session ${s.sessionId}, pid ${s.pid}`);
console.log(`usage: ${s.usage.input_tokens} tokens in, ${s.usage.output_tokens} out, $${s.usage.cost_usd.toFixed(3)}`);

const outcome = await session.close(); // interrupt (if a turn runs) -> stdin EOF -> SIGTERM -> SIGKILL
console.log(`stopped: ${outcome}, status ${session.status.status}, exit code ${session.status.exitCode}`);
