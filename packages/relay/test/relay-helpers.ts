// What the relay wire tests share: transports that record or hold deliveries, a relay on a real
// Unix socket in a temp dir, and a raw NDJSON stream for speaking the wire byte by byte.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { NdjsonDecoder } from "@agentmux/common-ipc";
import { onCleanup, tempDir, until } from "@agentmux/testkit";
import { type RelayDirectory, type RelayDirectorySnapshot, staticDirectory } from "../src/directory.js";
import { MemoryMailbox } from "../src/mailbox.js";
import type { Controls } from "../src/policy.js";
import { RelayServer, type RelayServerOptions } from "../src/server.js";
import type { Delivery, DeliveryOutcome, LookSnapshot, Mailbox, Transport } from "../src/transport.js";

export const BUNDLE = "party";

/** Everything allowed within the bundle. */
export const OPEN: Controls = Object.freeze({
  find: "all:home",
  list: "all:home",
  look: "all:home",
  send: "all:home",
  raww: "all:home",
});

/** Delivers at once and remembers what it delivered, looked at and typed. */
export class RecordingTransport implements Transport {
  readonly deliveries: Delivery[] = [];
  readonly rawWrites: { target: string; text: string; noEnter: boolean }[] = [];
  readonly looks: { target: string; lines: number }[] = [];

  constructor(
    readonly kind = "test",
    private readonly outcomeFor: (d: Delivery) => DeliveryOutcome = () => ({ outcome: "delivered" }),
  ) {}

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    this.deliveries.push(delivery);
    return this.outcomeFor(delivery);
  }

  async look(target: string, lines: number): Promise<LookSnapshot> {
    this.looks.push({ target, lines });
    return { format: "lines", lines: Array.from({ length: lines }, (_, i) => `${target} line ${i + 1}`) };
  }

  async raww(target: string, text: string, options: { noEnter: boolean }): Promise<void> {
    this.rawWrites.push({ target, text, noEnter: options.noEnter });
  }

  to(target: string): Delivery[] {
    return this.deliveries.filter((d) => d.targetSession === target);
  }
}

/**
 * Holds every delivery until the test releases it (oldest first), so a test
 * can see what is queued behind it. Honours the shutdown signal the way a
 * real transport should: an aborted delivery reports `dropped_on_shutdown`.
 */
export class BlockingTransport implements Transport {
  readonly started: Delivery[] = [];
  readonly finished: { delivery: Delivery; outcome: DeliveryOutcome }[] = [];
  readonly #waiting: { delivery: Delivery; release: (o: DeliveryOutcome) => void }[] = [];

  constructor(readonly kind = "test") {}

  deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    this.started.push(delivery);
    return new Promise((resolve) => {
      const finish = (outcome: DeliveryOutcome): void => {
        this.finished.push({ delivery, outcome });
        resolve(outcome);
      };
      delivery.signal.addEventListener("abort", () => finish({ outcome: "dropped_on_shutdown" }), { once: true });
      this.#waiting.push({ delivery, release: finish });
    });
  }

  async look(): Promise<LookSnapshot> {
    return { format: "lines", lines: [] };
  }

  /** How many deliveries are being held. */
  get held(): number {
    return this.#waiting.length;
  }

  /** Lets the oldest held delivery finish with `outcome`. */
  release(outcome: DeliveryOutcome = { outcome: "delivered" }): Delivery {
    const next = this.#waiting.shift();
    if (next === undefined) throw new Error("no delivery is held");
    next.release(outcome);
    return next.delivery;
  }
}

/** A directory whose snapshot a test can change between requests. */
export class MutableDirectory implements RelayDirectory {
  constructor(public snapshot: RelayDirectorySnapshot) {}
  async load(): Promise<RelayDirectorySnapshot> {
    return this.snapshot;
  }
}

/**
 * A directory whose loads wait while it is gated, each until the test opens
 * it by its position, so a test can decide which of two racing requests sees
 * the configuration first.
 */
export class GatedDirectory implements RelayDirectory {
  gated = false;
  readonly #held: (() => void)[] = [];

  constructor(readonly snapshot: RelayDirectorySnapshot) {}

  async load(): Promise<RelayDirectorySnapshot> {
    if (this.gated) await new Promise<void>((resolve) => this.#held.push(resolve));
    return this.snapshot;
  }

  get heldCount(): number {
    return this.#held.filter((h) => h !== noop).length;
  }

  /** Lets the `index`-th held load (in arrival order) proceed. */
  open(index: number): void {
    const held = this.#held[index];
    if (held === undefined || held === noop) throw new Error(`load ${index} is not held`);
    this.#held[index] = noop;
    held();
  }
}

function noop(): void {}

export interface StartedRelay {
  readonly relay: RelayServer;
  readonly socketPath: string;
  readonly listener: Server;
  readonly mailbox: Mailbox;
}

/** A relay on a fresh Unix socket, closed (with its listener) after the test. */
export async function startRelay(
  options: Partial<RelayServerOptions> & { snapshot?: RelayDirectorySnapshot } = {},
): Promise<StartedRelay> {
  const { snapshot, ...rest } = options;
  const dir = tempDir("agentmux-relay-");
  const socketPath = join(dir, "relay.sock");
  const mailbox = options.mailbox ?? new MemoryMailbox();
  const relay = new RelayServer({
    bundleName: BUNDLE,
    directory: staticDirectory(snapshot ?? { members: [], uis: [] }),
    shutdownGraceMs: 0,
    ...rest,
    mailbox,
  });
  const listener = await listen(socketPath, (socket) => relay.handleConnection(socket));
  onCleanup(async () => {
    await relay.close();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  });
  return { relay, socketPath, listener, mailbox };
}

export function listen(socketPath: string, onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve(server));
  });
}

/** The wire, raw: write any bytes, read parsed frames one at a time. */
export class RawStream {
  readonly frames: Record<string, unknown>[] = [];
  /** Bytes received in total (a silent close has none). */
  received = 0;
  closed = false;
  readonly #decoder = new NdjsonDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
  #read = 0;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      for (const d of this.#decoder.push(chunk))
        if (d.ok) this.frames.push(JSON.parse(d.frame) as Record<string, unknown>);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
    });
  }

  static open(socketPath: string): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        const stream = new RawStream(socket);
        onCleanup(() => socket.destroy());
        resolve(stream);
      });
    });
  }

  send(frame: unknown): void {
    this.socket.write(typeof frame === "string" ? frame : `${JSON.stringify(frame)}\n`);
  }

  hello(sessionId: string, clientClass: "agent" | "ui" = "agent", extra: Record<string, unknown> = {}): void {
    this.send({
      frame: "hello",
      schema_version: "1",
      bundle_name: BUNDLE,
      session_id: sessionId,
      client_class: clientClass,
      ...extra,
    });
  }

  request(requestId: string, request: Record<string, unknown>): void {
    this.send({ frame: "request", request_id: requestId, request });
  }

  /** The next frame not yet returned. */
  next(what = "the next frame"): Promise<Record<string, unknown>> {
    return until(what, () => {
      const frame = this.frames[this.#read];
      if (frame === undefined) return undefined;
      this.#read += 1;
      return frame;
    });
  }

  /** The response frame for `requestId` (skipping events). */
  response(requestId: string): Promise<Record<string, unknown>> {
    return until(`the response to ${requestId}`, () =>
      this.frames.find((f) => f.frame === "response" && f.request_id === requestId),
    );
  }

  waitClosed(): Promise<true> {
    return until("the relay to close the stream", () => this.closed);
  }
}

/** `frame.response.error` of an error frame. */
export function errorOf(frame: Record<string, unknown>): {
  code: string;
  message: string;
  details?: Record<string, unknown>;
} {
  const response = frame.response as {
    kind: string;
    error?: { code: string; message: string; details?: Record<string, unknown> };
  };
  if (response.kind !== "error" || response.error === undefined)
    throw new Error(`not an error frame: ${JSON.stringify(frame)}`);
  return response.error;
}
