import { AcpSession } from "./acp-session.js";
import { NdjsonSession } from "./ndjson-session.js";
import type { Session, SessionClaims, SessionOptions } from "./session.js";

/** Opens a session with the right protocol for its provider. */
export function createSession(options: SessionOptions): Session {
  const provider = options.provider;
  return provider.protocol === "acp"
    ? new AcpSession({ ...options, provider })
    : new NdjsonSession({ ...options, provider });
}

/**
 * In-memory claims: one live process per conversation id. Give the same instance to every
 * session of one app (an app owns it; this package holds no global state).
 */
export class ConversationClaims implements SessionClaims {
  readonly #owners = new Map<string, object>();

  claim(sessionId: string, owner: object): boolean {
    const holder = this.#owners.get(sessionId);
    if (holder !== undefined && holder !== owner) return false;
    this.#owners.set(sessionId, owner);
    return true;
  }

  release(sessionId: string, owner: object): void {
    if (this.#owners.get(sessionId) === owner) this.#owners.delete(sessionId);
  }

  /** Who holds this conversation, if anyone. */
  holder(sessionId: string): object | undefined {
    return this.#owners.get(sessionId);
  }
}
