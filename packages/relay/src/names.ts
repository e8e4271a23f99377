/**
 * The two names that become parts of paths and tmux targets. They are
 * checked once, where they enter, so the rest of the relay can join them into
 * paths without escaping.
 */
import { RelayError } from "./errors.js";

/**
 * A bundle name is one directory under `<state>/bundles/`. Dots are allowed
 * inside a name but not first: that rules out `.` and `..` (which would
 * escape or alias the bundles directory) and hidden directories.
 */
const BUNDLE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Longest session id: tmux session names are used as-is, and 31 keeps them short in status lines. */
export const MAX_SESSION_ID_LENGTH = 31;

/** A session id is also its tmux session name, so no `.` or `:` (tmux target separators). */
const SESSION_ID = new RegExp(`^[A-Za-z][A-Za-z0-9_-]{0,${MAX_SESSION_ID_LENGTH - 1}}$`);

/** Returns `name` if it is a valid bundle name; throws `validation_invalid_bundle_name` otherwise. */
export function validateBundleName(name: string): string {
  if (!BUNDLE_NAME.test(name)) {
    throw new RelayError(
      "validation_invalid_bundle_name",
      `invalid bundle name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-', not starting with '.'`,
      { bundle_name: name },
    );
  }
  return name;
}

/** Returns `id` if it is a valid session id; throws `validation_invalid_session_id` otherwise. */
export function validateSessionId(id: string): string {
  if (!SESSION_ID.test(id)) {
    throw new RelayError(
      "validation_invalid_session_id",
      `invalid session id ${JSON.stringify(id)}: a letter, then letters, digits, '_' or '-', at most ${MAX_SESSION_ID_LENGTH} characters`,
      { session_id: id, max_length: MAX_SESSION_ID_LENGTH },
    );
  }
  return id;
}
