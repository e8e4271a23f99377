// A stand-in for the `claude` CLI, speaking enough of its stream-json protocol for
// examples/session.mjs to run without the real CLI, an account or a network. It takes user turns
// and control lines on stdin and answers each turn the way the real CLI does: `system/init` (first
// turn), a `can_use_tool` permission request (with `--permission-prompt-tool stdio`), then
// `assistant` and `result` once the request is answered. It exits when stdin closes.
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";

const argv = process.argv.slice(2);
const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
if (flag("--input-format") !== "stream-json" || flag("--output-format") !== "stream-json") {
  process.stderr.write("fake-claude: needs --input-format stream-json --output-format stream-json\n");
  process.exit(2);
}
const asks = flag("--permission-prompt-tool") === "stdio";
const sessionId = flag("--resume") ?? randomUUID();
const out = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const waiting = []; // user turns not started yet
let turn = null; // the turn in progress: { text, requestId }
let turns = 0;
let costTotal = 0; // the real CLI reports the session's running cost on every result

function startNext() {
  if (turn !== null || waiting.length === 0) return;
  turn = { text: waiting.shift(), requestId: null };
  if (++turns === 1)
    out({ type: "system", subtype: "init", session_id: sessionId, cwd: process.cwd(), tools: ["Read"] });
  if (!asks) return finish("allowed");
  turn.requestId = `perm-${turns}`;
  out({
    type: "control_request",
    request_id: turn.requestId,
    request: { subtype: "can_use_tool", tool_name: "Read", input: { file_path: "README.md" } },
  });
}

function finish(decision) {
  const words = turn.text.split(/\s+/).filter(Boolean).length;
  const text = `You said ${words} words; reading README.md was ${decision}.`;
  const usage = { input_tokens: 10 * words, output_tokens: 12 };
  costTotal += 0.001;
  out({
    type: "assistant",
    message: { role: "assistant", model: "stand-in", content: [{ type: "text", text }], usage },
    parent_tool_use_id: null,
    session_id: sessionId,
  });
  out({
    type: "result",
    subtype: "success",
    is_error: false,
    num_turns: turns,
    result: text,
    session_id: sessionId,
    total_cost_usd: costTotal,
    usage,
  });
  turn = null;
  startNext();
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const msg = JSON.parse(line);
  if (msg.type === "user") {
    waiting.push(typeof msg.message?.content === "string" ? msg.message.content : "");
    startNext();
  } else if (msg.type === "control_response" && turn !== null && msg.response?.request_id === turn.requestId) {
    finish(msg.response.response?.behavior === "allow" ? "allowed" : "denied");
  } else if (msg.type === "control_request" && msg.request?.subtype === "interrupt") {
    out({ type: "control_response", response: { subtype: "success", request_id: msg.request_id } });
    if (turn !== null) finish("interrupted");
  }
});
lines.on("close", () => process.exit(0));
