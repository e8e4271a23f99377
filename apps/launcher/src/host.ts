import { type ChildProcess, spawn } from "node:child_process";
import type { Guardian } from "@agentmux/agent-controller";
import type { RunFile } from "./run-file.js";

export const HOST_DEFAULTS = Object.freeze({
  /** Host crashes restarted within `windowMs`; one more and the launcher gives up. */
  maxRestarts: 3,
  windowMs: 60_000,
  /** How long the host gets to stop before it is SIGKILLed. */
  stopGraceMs: 1500,
});

/** How a host run ended, from the launcher's point of view. */
export type HostEnd = "stop" | "gave_up";

export interface HostOptions {
  /** A shell command line (run with /bin/sh -c). */
  command: string;
  authKey: string;
  env: NodeJS.ProcessEnv;
  err: (line: string) => void;
  /** The host asked for a shutdown (it was stopped by SIGINT/SIGTERM), or crashed too often. */
  onEnd: (end: HostEnd) => void;
}

/**
 * The optional host program (`agentmux start --host CMD`): started once srv is ready, with srv's
 * endpoints and key in its environment; restarted on srv's new endpoints after a srv restart, and
 * after its own crash (at most 3 times in 60 s). A host stopped by SIGINT or SIGTERM means the
 * person wants everything stopped. Its process group is registered with a guardian, so a launcher
 * killed by SIGKILL takes the host along.
 */
export class Host {
  readonly #options: HostOptions;
  #child: ChildProcess | null = null;
  #guardian: Guardian | undefined;
  #startTime: ((pid: number) => string | null) | undefined;
  #crashes: number[] = [];
  #stopping = false;
  #run: RunFile | undefined;

  constructor(options: HostOptions) {
    this.#options = options;
  }

  /** Starts the host on these endpoints (restarting it if it runs on older ones). */
  async start(run: RunFile): Promise<void> {
    this.#run = run;
    if (this.#child !== null) await this.#kill();
    if (this.#guardian === undefined) {
      // The agent controller's guardian: loaded only when there is a host to guard, from a bundle
      // of its own (guardian.ts).
      const { Guardian, processStartTime } = await import("./guardian.js");
      this.#guardian = new Guardian();
      this.#startTime = processStartTime;
    }
    this.#spawn();
  }

  /** Stops the host: SIGTERM to its group, SIGKILL after the grace. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#kill();
    await this.#guardian?.close();
  }

  #spawn(): void {
    const run = this.#run as RunFile;
    const child = spawn("/bin/sh", ["-c", this.#options.command], {
      detached: true,
      stdio: "inherit",
      env: {
        ...this.#options.env,
        AGENTMUX_BACKEND_WS: run.ws,
        AGENTMUX_BACKEND_WEB: run.web,
        AGENTMUX_BACKEND_PID: String(run.srv_pid),
        AGENTMUX_AUTH_KEY: this.#options.authKey,
        AGENTMUX_INSTANCE_ID: run.instance,
      },
    });
    this.#child = child;
    if (child.pid !== undefined)
      this.#guardian?.guard({ pid: child.pid, startTime: this.#startTime?.(child.pid) ?? null });
    child.once("exit", (code, signal) => {
      if (child.pid !== undefined) this.#guardian?.release(child.pid);
      if (this.#child !== child) return; // replaced or stopped on purpose
      this.#child = null;
      if (this.#stopping) return;
      // A host stopped by SIGINT/SIGTERM (or a shell reporting it: 130, 143) means: shut down.
      if (signal === "SIGINT" || signal === "SIGTERM" || code === 130 || code === 143)
        return this.#options.onEnd("stop");
      const now = Date.now();
      this.#crashes = [...this.#crashes.filter((t) => now - t <= HOST_DEFAULTS.windowMs), now];
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      if (this.#crashes.length > HOST_DEFAULTS.maxRestarts) {
        this.#options.err(`agentmux: the host crashed (${how}) ${this.#crashes.length} times within 60 s; giving up`);
        return this.#options.onEnd("gave_up");
      }
      this.#options.err(`agentmux: the host crashed (${how}); restarting it`);
      this.#spawn();
    });
  }

  async #kill(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), s);
      } catch {
        // gone
      }
    };
    signal("SIGTERM");
    const grace = setTimeout(() => signal("SIGKILL"), HOST_DEFAULTS.stopGraceMs);
    await exited;
    clearTimeout(grace);
  }
}
