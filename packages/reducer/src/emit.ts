import type { BusEvent } from "@agentmux/common-ipc";

/** An event before the reducer stamps it with a version (and the command's req_id). */
export type DraftEvent = BusEvent extends infer E
  ? E extends BusEvent
    ? Omit<E, "version" | "req_id">
    : never
  : never;

/** Collects the events of one command, numbering them from the state's version. */
export class Emitter {
  readonly events: BusEvent[] = [];

  constructor(
    private readonly baseVersion: number,
    private readonly reqId: string | undefined,
  ) {}

  emit(draft: DraftEvent): void {
    const version = this.baseVersion + this.events.length + 1;
    const ev = (
      this.reqId === undefined ? { ...draft, version } : { ...draft, version, req_id: this.reqId }
    ) as BusEvent;
    this.events.push(ev);
  }

  /** A non-fatal, broadcast `invalid_command` error (it consumes a version). */
  reject(message: string, code: "invalid_command" | "already_registered" = "invalid_command"): void {
    this.emit({ event: "error", code, message, fatal: false });
  }
}
