import { describe, expect, expectTypeOf, it } from "vitest";
import {
  COMMAND_NAMES,
  COMMAND_ROUTES,
  COMMANDS_BY_ROUTE,
  type Command,
  type CommandName,
  type CommandOf,
  type CommandsRoutedTo,
  decodeCommand,
  isLayoutCommand,
  isRouted,
  ROUTES,
  type Route,
  type RoutedCommand,
  routeCommand,
  routeOf,
} from "../src/index.js";
import { COMMAND_EXAMPLES } from "./wire-examples.js";

function example(name: CommandName): Command {
  const r = decodeCommand(COMMAND_EXAMPLES[name] as string);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const allCommands = COMMAND_NAMES.map(example);

describe("one route table (DESIGN §4: which handler a command goes to is declared once)", () => {
  it("routes every command name, and nothing else, to a known route", () => {
    expect(Object.keys(COMMAND_ROUTES).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const name of COMMAND_NAMES) expect(ROUTES).toContain(COMMAND_ROUTES[name]);
  });

  it("COMMANDS_BY_ROUTE partitions the vocabulary", () => {
    const listed = ROUTES.flatMap((route) => [...COMMANDS_BY_ROUTE[route]]);
    expect(listed.sort()).toEqual([...COMMAND_NAMES].sort());
    for (const route of ROUTES) {
      for (const name of COMMANDS_BY_ROUTE[route]) expect(COMMAND_ROUTES[name]).toBe(route);
    }
  });

  it("routes the server-side commands away from the reducer", () => {
    expect(COMMANDS_BY_ROUTE.session).toEqual(["register", "goodbye"]);
    expect(COMMANDS_BY_ROUTE.catch_up).toEqual(["get_events", "get_layout", "list_messages"]);
    expect(COMMANDS_BY_ROUTE.stream).toEqual(["subscribe_output"]);
    expect([...COMMANDS_BY_ROUTE.agent].sort()).toEqual(
      ["agent_interrupt", "agent_respond", "agent_send", "agent_stop", "get_block_output", "list_agents"].sort(),
    );
    expect([...COMMANDS_BY_ROUTE.saga].sort()).toEqual(["promote_block_to_tab", "tear_off_block", "tear_off_tab"]);
  });

  it("sends the layout vocabulary, ping and get_srv_snapshot to the reducer", () => {
    for (const cmd of allCommands.filter(isLayoutCommand)) expect(routeOf(cmd)).toBe("reducer");
    expect(routeOf(example("ping"))).toBe("reducer");
    expect(routeOf(example("get_srv_snapshot"))).toBe("reducer");
  });

  it("routeOf, isRouted and routeCommand agree on every command", () => {
    for (const cmd of allCommands) {
      const route = routeOf(cmd);
      expect(route).toBe(COMMAND_ROUTES[cmd.cmd]);
      for (const other of ROUTES) expect(isRouted(cmd, other)).toBe(other === route);
      expect(routeCommand(cmd)).toEqual({ route, cmd });
    }
  });

  it("the table cannot be changed at run time", () => {
    expect(Object.isFrozen(COMMAND_ROUTES)).toBe(true);
    expect(Object.isFrozen(COMMANDS_BY_ROUTE)).toBe(true);
    expect(Object.isFrozen(COMMANDS_BY_ROUTE.agent)).toBe(true);
  });
});

describe("route types narrow commands", () => {
  it("the table's keys are exactly the command names", () => {
    expectTypeOf<keyof typeof COMMAND_ROUTES>().toEqualTypeOf<CommandName>();
    expectTypeOf<(typeof ROUTES)[number]>().toEqualTypeOf<Route>();
  });

  it("commands per route are derived from the table", () => {
    expectTypeOf<CommandsRoutedTo<"session">>().toEqualTypeOf<"register" | "goodbye">();
    expectTypeOf<CommandsRoutedTo<"catch_up">>().toEqualTypeOf<"get_events" | "get_layout" | "list_messages">();
    expectTypeOf<CommandsRoutedTo<"saga">>().toEqualTypeOf<
      "tear_off_tab" | "tear_off_block" | "promote_block_to_tab"
    >();
    expectTypeOf<RoutedCommand<"stream">>().toEqualTypeOf<CommandOf<"subscribe_output">>();
    expectTypeOf<CommandsRoutedTo<"agent" | "saga">>().toEqualTypeOf<
      CommandsRoutedTo<"agent"> | CommandsRoutedTo<"saga">
    >();
  });

  it("isRouted narrows", () => {
    const cmd = example("agent_send");
    if (isRouted(cmd, "agent")) {
      expectTypeOf(cmd.cmd).toEqualTypeOf<CommandsRoutedTo<"agent">>();
      if (cmd.cmd !== "list_agents") expectTypeOf(cmd.block_id).toEqualTypeOf<string>();
    }
    if (isRouted(cmd, "catch_up") && cmd.cmd === "get_events") expectTypeOf(cmd.since).toEqualTypeOf<number>();
    if (isRouted(cmd, "saga")) {
      // tear_off_tab has no block_id, so the saga commands as a whole do not either.
      // @ts-expect-error block_id is not on every saga command
      void cmd.block_id;
    }
    expect(isRouted(cmd, "agent")).toBe(true);
  });

  it("routeOf is exact on a narrowed command", () => {
    const cmd = example("get_events");
    if (cmd.cmd === "get_events") expectTypeOf(routeOf(cmd)).toEqualTypeOf<"catch_up">();
    expectTypeOf(routeOf(cmd)).toEqualTypeOf<Route>();
  });

  it("routeCommand pairs the route with a narrowed command for an exhaustive switch", () => {
    const seen: string[] = [];
    for (const cmd of allCommands) {
      const routed = routeCommand(cmd);
      switch (routed.route) {
        case "session":
          expectTypeOf(routed.cmd.cmd).toEqualTypeOf<"register" | "goodbye">();
          break;
        case "catch_up":
          expectTypeOf(routed.cmd.cmd).toEqualTypeOf<"get_events" | "get_layout" | "list_messages">();
          break;
        case "stream":
          expectTypeOf(routed.cmd.block_ids).toEqualTypeOf<string[]>();
          break;
        case "agent":
          if (routed.cmd.cmd !== "list_agents") expectTypeOf(routed.cmd.block_id).toEqualTypeOf<string>();
          break;
        case "saga":
          expectTypeOf(routed.cmd).toEqualTypeOf<RoutedCommand<"saga">>();
          break;
        case "reducer":
          expectTypeOf(routed.cmd).toEqualTypeOf<RoutedCommand<"reducer">>();
          break;
        default:
          expectTypeOf(routed).toBeNever();
      }
      seen.push(routed.route);
    }
    expect(new Set(seen)).toEqual(new Set(ROUTES));
  });
});
