#!/usr/bin/env node
// Starts an agent-like child in its own process group (as a session does) that ignores SIGTERM and
// has a child of its own, prints `{"pid": <child's pid>}`, then waits to be SIGKILLed: the child
// survives its owner, an orphan for the next owner to reap. The test reads the child's start time
// itself (with the controller's processStartTime) while the owner still runs, so this file needs
// nothing but Node.
import { spawn } from "node:child_process";

const child = spawn(
  process.execPath,
  [
    "-e",
    "process.on('SIGTERM',()=>{}); require('child_process').spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'ignore'}); setInterval(()=>{},1000)",
  ],
  { detached: true, stdio: "ignore" },
);
process.stdout.write(`${JSON.stringify({ pid: child.pid })}\n`);
setInterval(() => {}, 1000);
