import type * as z from "zod/mini";

/**
 * The value of a one-value literal schema (`z.literal("ping")`): how the tag of
 * a union variant is read back (zod/mini literals have no `.value` accessor).
 * Internal: not exported from the package.
 */
export function literalValue<T extends z.core.util.Literal>(schema: z.ZodMiniLiteral<T>): T {
  const [value] = schema.def.values;
  // Unreachable for the schemas of this package, which all pass one value.
  if (value === undefined) throw new Error("literalValue: the literal schema has no value");
  return value;
}
