import type { Command, CommandName, CommandOf } from "./commands.js";

/**
 * Who serves a command. Every transport dispatches from {@link COMMAND_ROUTES},
 * so this is the one place the decision is made.
 *
 * - `session`: the connection's own bookkeeping. `register` must come first
 *   (anything else is `not_registered`, a second one `already_registered`) and
 *   `goodbye` closes the connection; the connection then hands the command to
 *   the dispatcher for its events (`registered`, `process_exited`). Meaningless
 *   over a transport where each request stands alone (HTTP).
 * - `catch_up`: answered privately from what the dispatcher already holds: the
 *   event ring or the durable log (`event_list` pages), the current state
 *   (`layout_state`), or the relay's mailbox (`message_list`); never reaches the reducer.
 * - `stream`: subscribes the connection itself to pushed data
 *   (`block_output`); needs a streaming transport (socket or WebSocket).
 * - `agent`: srv's agent runtime (agent processes and their transcripts);
 *   replies privately and publishes `agent_status` through the dispatcher.
 * - `saga`: srv's saga runner, a durable multi-step operation whose steps are
 *   reducer commands.
 * - `reducer`: the dispatcher, i.e. `decide`/`evolve` (persisted, versioned,
 *   broadcast on the bus).
 */
export const ROUTES = ["session", "catch_up", "stream", "agent", "saga", "reducer"] as const;
export type Route = (typeof ROUTES)[number];

/**
 * The route of every command. `satisfies` makes a missing or unknown command
 * name a compile error, and the literal types let {@link isRouted} narrow.
 */
export const COMMAND_ROUTES = Object.freeze({
  register: "session",
  goodbye: "session",
  get_events: "catch_up",
  get_layout: "catch_up",
  list_messages: "catch_up",
  subscribe_output: "stream",
  agent_send: "agent",
  agent_interrupt: "agent",
  agent_stop: "agent",
  agent_respond: "agent",
  get_block_output: "agent",
  list_agents: "agent",
  tear_off_tab: "saga",
  tear_off_block: "saga",
  promote_block_to_tab: "saga",
  ping: "reducer",
  get_srv_snapshot: "reducer",
  create_workspace: "reducer",
  delete_workspace: "reducer",
  rename_workspace: "reducer",
  update_workspace_meta: "reducer",
  create_tab: "reducer",
  delete_tab: "reducer",
  set_active_tab: "reducer",
  reorder_tab: "reducer",
  reorder_tabs_bulk: "reducer",
  rename_tab: "reducer",
  update_tab_meta: "reducer",
  move_tab: "reducer",
  create_block: "reducer",
  delete_block: "reducer",
  update_block_meta: "reducer",
  move_block: "reducer",
  create_window: "reducer",
  close_window_internal: "reducer",
  switch_workspace: "reducer",
  update_window_meta: "reducer",
  set_focused_node: "reducer",
  set_magnified_node: "reducer",
  layout_insert_node: "reducer",
  layout_insert_node_at_index: "reducer",
  layout_delete_node: "reducer",
  layout_delete_node_by_block: "reducer",
  layout_move_node: "reducer",
  layout_swap_nodes: "reducer",
  layout_resize_nodes: "reducer",
  layout_replace_node: "reducer",
  layout_split_horizontal: "reducer",
  layout_split_vertical: "reducer",
  layout_clear: "reducer",
  layout_set_tree: "reducer",
  layout_queue_backend_actions: "reducer",
} as const satisfies Record<CommandName, Route>);

/** The route of command `N`, as a literal type. */
export type RouteOf<N extends CommandName> = (typeof COMMAND_ROUTES)[N];

/** The names of the commands routed to `R` (a union of literals). */
export type CommandsRoutedTo<R extends Route> = {
  [N in CommandName]: RouteOf<N> extends R ? N : never;
}[CommandName];

/** The parsed commands routed to `R`. */
export type RoutedCommand<R extends Route> = CommandOf<CommandsRoutedTo<R>>;

/**
 * A command paired with its route; switching on `route` narrows `cmd` too,
 * and a `switch` that misses a route fails to compile where its result is
 * checked for exhaustiveness.
 */
export type Routed = { [R in Route]: { route: R; cmd: RoutedCommand<R> } }[Route];

/** Who serves `cmd` (see {@link Route}). */
export function routeOf<C extends Command>(cmd: C): RouteOf<C["cmd"]> {
  return COMMAND_ROUTES[cmd.cmd as C["cmd"]];
}

/** True when `cmd` is served by `route`; narrows `cmd` to the commands of that route. */
export function isRouted<R extends Route>(cmd: Command, route: R): cmd is RoutedCommand<R> {
  return COMMAND_ROUTES[cmd.cmd] === route;
}

/** `cmd` with its route, for an exhaustive `switch (routed.route)`. */
export function routeCommand(cmd: Command): Routed {
  // The table is what pairs a command with its route; the compiler cannot follow that through a lookup.
  return { route: COMMAND_ROUTES[cmd.cmd], cmd } as Routed;
}

/** The command names of each route, in table order. */
export const COMMANDS_BY_ROUTE: { readonly [R in Route]: readonly CommandsRoutedTo<R>[] } = Object.freeze(
  Object.fromEntries(
    ROUTES.map((route) => [
      route,
      Object.freeze((Object.keys(COMMAND_ROUTES) as CommandName[]).filter((n) => COMMAND_ROUTES[n] === route)),
    ]),
  ) as { [R in Route]: readonly CommandsRoutedTo<R>[] },
);
