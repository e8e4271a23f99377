// An owner process for the guardian tests: starts a Guardian, then an agent-like process group
// (a leader that ignores SIGTERM, with a child of its own) that it guards, and a second group it
// registers with a wrong start time (as if the pid had been reused). Prints one JSON line with
// the pids, a line per guardian replacement, and then waits to be killed. With "release" as its
// argument it releases its group and closes the guardian cleanly instead, then waits.
import { spawn } from "node:child_process";
import { Guardian, processStartTime } from "../dist/index.js";

const stubborn = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)";
const group = () => {
  const leader = spawn(
    process.execPath,
    [
      "-e",
      `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(stubborn)}], { stdio: 'ignore' }); ${stubborn}`,
    ],
    { detached: true, stdio: "ignore" },
  );
  leader.unref();
  return leader.pid;
};

const guardian = new Guardian({
  onReplaced: (r) =>
    process.stdout.write(`${JSON.stringify({ replaced: r.pid, by: r.replacement, signal: r.signal })}\n`),
});
const pgid = group();
const impostor = group();
guardian.guard({ pid: pgid, startTime: processStartTime(pgid) });
guardian.guard({ pid: impostor, startTime: "1" });
process.stdout.write(`${JSON.stringify({ guardian: guardian.pid, pgid, impostor })}\n`);
if (process.argv[2] === "release") {
  guardian.release(pgid);
  guardian.release(impostor);
  await guardian.close();
  process.stdout.write('{"closed":true}\n');
}
setInterval(() => {}, 1000);
