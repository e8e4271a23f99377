// The MCP server srv writes into each agent's MCP config, after `mcp-main.ts` turned on the
// compile cache: it speaks MCP on stdin/stdout (so nothing else may ever write to stdout), logs
// JSON lines to stderr, and does not need the relay to be up: it connects on the first tool
// call. It exits when its client closes stdin, or on SIGINT/SIGTERM/SIGHUP.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import pino from "pino";
import { ConfigError } from "../errors.js";
import { SRV_VERSION } from "../version.js";
import { MCP_USAGE, type McpArgs, parseMcpArgv } from "./args.js";
import { AgentMcpServer } from "./server.js";

/** Exit status for a bad command line (as srv's own). */
const EXIT_USAGE = 2;

function usageExit(message: string): never {
  process.stderr.write(`agentmux-mcp: ${message}\n${MCP_USAGE}\n`);
  process.exit(EXIT_USAGE);
}

let args: McpArgs;
try {
  const parsed = parseMcpArgv(process.argv.slice(2));
  if (parsed.help) {
    process.stderr.write(`${MCP_USAGE}\n`);
    process.exit(0);
  }
  args = parsed.args;
} catch (err) {
  if (err instanceof ConfigError) usageExit(err.message);
  throw err;
}

// Synchronous writes: the process may exit right after a line, and stderr is where its reason goes.
const logger = pino(
  { base: { pid: process.pid, component: "mcp", bundle: args.bundleName, session: args.sessionId } },
  pino.destination({ dest: 2, sync: true }),
);

const server = new AgentMcpServer({
  ...args,
  version: SRV_VERSION,
  log: (event, details) => logger.info({ event, ...details }),
});

let stopping = false;
async function shutdown(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ event: "mcp.stop", why });
  try {
    await server.close();
  } finally {
    process.exit(0);
  }
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(signal));
// The client (the agent) is gone when our stdin ends; the SDK's transport does not watch for that.
process.stdin.on("end", () => void shutdown("stdin closed"));
process.stdin.on("close", () => void shutdown("stdin closed"));

await server.connect(new StdioServerTransport());
logger.info({ event: "mcp.start", socket_path: args.socketPath, version: SRV_VERSION });
