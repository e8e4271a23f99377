import { defineConfig } from "tsup";
import { library } from "../../tsup.config.base.ts";

// Two entries: everything, and the client alone (`@agentmux/relay/client`), so a program that
// only talks to a relay loads no lock, server or configuration code.
export default defineConfig({ ...library, entry: ["src/index.ts", "src/client.ts"] });
