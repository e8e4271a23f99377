// The one thing a server needs from this package: where the built dashboard is.
import { fileURLToPath } from "node:url";

/** The built dashboard (`index.html` and `assets/`), for a server to serve: srv does. */
export const distDir = fileURLToPath(new URL("./dist/", import.meta.url));
