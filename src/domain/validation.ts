import { z } from "zod";
import { DomainError } from "./errors.js";

export const phoneSchema = z.string().regex(/^\+[1-9]\d{6,14}$/, "phone must be E.164, e.g. +14165550100");
export const emailSchema = z.email("email is not a valid address");

/** Validates a command; the first problem becomes BAD_USER_INPUT naming its field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DomainError("BAD_USER_INPUT", issue.message, { field: issue.path.join(".") });
  }
  return parsed.data;
}

/** A connection's `first`: a whole number from 1 to `max`. */
export function requirePageSize(first: number, max: number): void {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw new DomainError("BAD_USER_INPUT", `first must be between 1 and ${max}`, { field: "first" });
  }
}
