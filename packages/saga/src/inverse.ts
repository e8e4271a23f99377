import type { BusEvent, Command, CommandInput } from "@agentmux/common-ipc";

export type Inverse = { ok: true; command: CommandInput } | { ok: false; reason: string };

function created<E extends BusEvent["event"]>(
  events: readonly BusEvent[],
  kind: E,
): Extract<BusEvent, { event: E }> | undefined {
  return events.find((e) => e.event === kind) as Extract<BusEvent, { event: E }> | undefined;
}

/**
 * The command that undoes `cmd`, given the events it caused; ids minted by
 * the reducer are read from those events. Moves go back to index 0 of their
 * source. Commands with no safe inverse (deletes, renames, meta updates, …)
 * give `no_inverse_for_<cmd>`.
 */
export function inverseOf(cmd: Command, events: readonly BusEvent[]): Inverse {
  const missing = (what: string): Inverse => ({ ok: false, reason: `no ${what} event recorded for ${cmd.cmd}` });
  switch (cmd.cmd) {
    case "create_workspace": {
      const ev = created(events, "workspace_created");
      return ev
        ? { ok: true, command: { cmd: "delete_workspace", workspace_id: ev.workspace_id, force: false } }
        : missing("workspace_created");
    }
    case "create_tab": {
      const ev = created(events, "tab_created");
      return ev
        ? { ok: true, command: { cmd: "delete_tab", workspace_id: ev.workspace_id, tab_id: ev.tab_id, force: true } }
        : missing("tab_created");
    }
    case "create_block": {
      const ev = created(events, "block_created");
      return ev
        ? { ok: true, command: { cmd: "delete_block", tab_id: ev.tab_id, block_id: ev.block_id } }
        : missing("block_created");
    }
    case "move_tab":
      return {
        ok: true,
        command: {
          cmd: "move_tab",
          tab_id: cmd.tab_id,
          src_workspace_id: cmd.dst_workspace_id,
          dst_workspace_id: cmd.src_workspace_id,
          dst_index: 0,
        },
      };
    case "move_block":
      return {
        ok: true,
        command: {
          cmd: "move_block",
          block_id: cmd.block_id,
          src_tab_id: cmd.dst_tab_id,
          dst_tab_id: cmd.src_tab_id,
          dst_index: 0,
        },
      };
    case "create_window":
      return { ok: true, command: { cmd: "close_window_internal", window_id: cmd.window_id } };
    default:
      return { ok: false, reason: `no_inverse_for_${cmd.cmd}` };
  }
}
