import { StoreError } from "./errors.js";
import { OTYPES, type OType } from "./schema.js";

export interface ORef {
  otype: OType;
  oid: string;
}

export function isOType(value: string): value is OType {
  return (OTYPES as readonly string[]).includes(value);
}

/** `otype:oid`. */
export function formatORef(otype: OType, oid: string): string {
  if (!isOType(otype)) throw new StoreError("invalid_argument", `unknown object type ${JSON.stringify(otype)}`);
  if (oid.length === 0 || /\s/.test(oid))
    throw new StoreError("invalid_argument", `invalid object id ${JSON.stringify(oid)}`);
  return `${otype}:${oid}`;
}

/** Splits `otype:oid` at the first colon, checking the type and the id. */
export function parseORef(text: string): ORef {
  const colon = text.indexOf(":");
  const otype = colon < 0 ? text : text.slice(0, colon);
  const oid = colon < 0 ? "" : text.slice(colon + 1);
  if (!isOType(otype)) throw new StoreError("invalid_argument", `invalid object reference ${JSON.stringify(text)}`);
  formatORef(otype, oid);
  return { otype, oid };
}
