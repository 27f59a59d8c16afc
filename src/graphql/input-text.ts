import { type ArgumentNode, type DocumentNode, Kind, type ValueNode, visit } from "graphql";
import { OperationRefusedError } from "./errors.js";

/** Longer than any text Ackline takes (the longest, a transfer's description, is 1,000); ids and cursors are far shorter. */
export const MAX_INPUT_TEXT_LENGTH = 10_000;

/** A UTF-16 surrogate with no partner: not a character, and not storable as UTF-8. */
const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

/** Why PostgreSQL could not store this text, or no input would take it; undefined when it is fit. */
function unfitness(text: string): string | undefined {
  if (text.length > MAX_INPUT_TEXT_LENGTH) return `is longer than ${MAX_INPUT_TEXT_LENGTH} characters`;
  if (text.includes("\u0000")) return "contains a NUL character";
  if (UNPAIRED_SURROGATE.test(text)) return "contains an unpaired surrogate (not valid Unicode)";
  return undefined;
}

/** Where a value sits, as a chain to its argument (no path is copied per level, however deep). */
interface Place {
  key: string | number;
  parent?: Place;
}

/** The argument path as Ackline names input fields: an `input` object's fields by their own names. */
function fieldName(place: Place): string {
  const path: Array<string | number> = [];
  for (let at: Place | undefined = place; at; at = at.parent) path.push(at.key);
  path.reverse();
  return (path[0] === "input" && path.length > 1 ? path.slice(1) : path).join(".");
}

type Pending = { place: Place } & ({ node: ValueNode } | { value: unknown });

/**
 * Finds the first string argument, written in the document or passed in a variable, that is
 * unfit to be stored: a NUL, an unpaired surrogate, or an absurd length. The walk keeps its own
 * stack, so a variable nested thousands deep is walked like a flat one.
 */
export function findUnfitText(document: DocumentNode, variables: Record<string, unknown>): OperationRefusedError | undefined {
  const pending: Pending[] = [];
  visit(document, {
    Argument(node: ArgumentNode) {
      pending.push({ place: { key: node.name.value }, node: node.value });
    },
  });
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { place } = item;
    let value: unknown;
    if ("node" in item) {
      const { node } = item;
      if (node.kind === Kind.LIST) node.values.forEach((element, index) => pending.push({ place: { key: index, parent: place }, node: element }));
      else if (node.kind === Kind.OBJECT) node.fields.forEach((field) => pending.push({ place: { key: field.name.value, parent: place }, node: field.value }));
      else if (node.kind === Kind.STRING) value = node.value;
      else if (node.kind === Kind.VARIABLE) value = variables[node.name.value];
    } else {
      value = item.value;
    }
    if (typeof value === "string") {
      const problem = unfitness(value);
      if (problem) return new OperationRefusedError("BAD_USER_INPUT", `${fieldName(place)} ${problem}`, { field: fieldName(place) });
    } else if (Array.isArray(value)) {
      value.forEach((element, index) => pending.push({ place: { key: index, parent: place }, value: element }));
    } else if (value !== null && typeof value === "object") {
      for (const [key, element] of Object.entries(value)) pending.push({ place: { key, parent: place }, value: element });
    }
  }
  return undefined;
}
