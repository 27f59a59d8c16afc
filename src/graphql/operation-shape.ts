import { type DocumentNode, type FragmentDefinitionNode, Kind, type SelectionSetNode, type ValidationRule } from "graphql";
import type { GraphQLLimits } from "../config.js";
import { OperationRefusedError } from "./errors.js";

/** The document's fragments by name. */
export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

interface Shape {
  depth: number;
  aliases: number;
  /** Fields at this level, fragments expanded: at the root, what the operation asks for at once. */
  fields: number;
}

const NOTHING: Shape = { depth: 0, aliases: 0, fields: 0 };

/**
 * The shape of a selection set with its fragments expanded. Each fragment is measured once and
 * its measure reused at every spread, so fragments spread into fragments cannot make this slow.
 */
function measure(root: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): Shape {
  const measured = new Map<string, Shape>();
  const spread = (name: string): Shape => {
    const known = measured.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment) return NOTHING;
    measured.set(name, NOTHING); // a fragment cycle (refused by graphql's own rules) counts nothing
    const shape = selectionSet(fragment.selectionSet);
    measured.set(name, shape);
    return shape;
  };
  const selectionSet = (set: SelectionSetNode): Shape => {
    const shape = { depth: 0, aliases: 0, fields: 0 };
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const children = selection.selectionSet ? selectionSet(selection.selectionSet) : NOTHING;
        shape.fields += 1;
        shape.depth = Math.max(shape.depth, 1 + children.depth);
        shape.aliases += (selection.alias ? 1 : 0) + children.aliases;
      } else {
        const inner = selection.kind === Kind.INLINE_FRAGMENT ? selectionSet(selection.selectionSet) : spread(selection.name.value);
        shape.fields += inner.fields;
        shape.depth = Math.max(shape.depth, inner.depth);
        shape.aliases += inner.aliases;
      }
    }
    return shape;
  };
  return selectionSet(root);
}

/** QUERY_TOO_COMPLEX naming the limit, so a client can tell which one it met. */
export function tooComplex(limit: string, actual: number, maximum: number, message: string): OperationRefusedError {
  return new OperationRefusedError("QUERY_TOO_COMPLEX", `${message}; at most ${maximum} allowed`, { limit, maximum, actual });
}

/** Nothing for the other rules to walk: see `operationShapeRule`. */
const EMPTY_DOCUMENT: DocumentNode = { kind: Kind.DOCUMENT, definitions: [] };

/**
 * Refuses an operation nested too deep, with too many aliases or too many top-level fields. It
 * measures on entering the document, before graphql's own rules walk it (one of them is quadratic
 * in fields of the same name: a few hundred take a second). On a refusal it hands the walk an
 * empty document in place of this one, so those rules are spared the oversized operation.
 */
export function operationShapeRule(limits: GraphQLLimits): ValidationRule {
  return (context) => ({
    Document(document) {
      const fragments = fragmentsOf(document);
      for (const definition of document.definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        const refusal = shapeRefusal(measure(definition.selectionSet, fragments), limits);
        if (refusal) {
          context.reportError(refusal);
          return EMPTY_DOCUMENT;
        }
      }
      return undefined;
    },
  });
}

function shapeRefusal({ depth, aliases, fields }: Shape, limits: GraphQLLimits): OperationRefusedError | undefined {
  if (depth > limits.maxDepth) return tooComplex("depth", depth, limits.maxDepth, `the operation is ${depth} levels deep`);
  if (aliases > limits.maxAliases) return tooComplex("aliases", aliases, limits.maxAliases, `the operation has ${aliases} aliases`);
  if (fields > limits.maxRootFields) return tooComplex("rootFields", fields, limits.maxRootFields, `the operation selects ${fields} top-level fields`);
  return undefined;
}
