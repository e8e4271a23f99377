import type * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

/**
 * zod's English messages ("Invalid input: expected string, received number"),
 * as an error map to pass per parse: `schema.safeParse(value, { error: zodEnglishErrors })`.
 *
 * This package uses zod/mini, which loads no locale: without a map its default
 * message is a bare "Invalid input". Classic zod installs the English locale
 * globally when imported; a package must not configure zod for the whole
 * process (DESIGN §2: no global state), so the map is passed where messages are
 * made. {@link parseCommand}/{@link parseEvent} and the decode functions do so;
 * code that parses one of this package's schemas itself and shows the issues to
 * people should pass it too. Messages a schema sets itself (e.g.
 * {@link AgentBlockMeta}'s) take precedence over it.
 */
// Pure: a bundle whose code never parses drops it (and the locale) entirely.
export const zodEnglishErrors: z.core.$ZodErrorMap = /* @__PURE__ */ en().localeError;
