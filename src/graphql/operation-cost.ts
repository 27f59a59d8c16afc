import {
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getNamedType,
  getNullableType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  SchemaMetaFieldDef,
  type SelectionSetNode,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
} from "graphql";

/** What a list without a `first` argument is taken to hold (a transfer's messages, a message's attempts). */
export const ASSUMED_LIST_LENGTH = 10;

function fieldDefinition(schema: GraphQLSchema, parentType: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === SchemaMetaFieldDef.name && parentType === schema.getQueryType()) return SchemaMetaFieldDef;
  if (name === TypeMetaFieldDef.name && parentType === schema.getQueryType()) return TypeMetaFieldDef;
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  return isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields()[name] : undefined;
}

/**
 * How many times a field's selection is resolved: its page size when it takes `first`; for any
 * other list, an assumed length, except a connection's `edges`, which its `first` already paid
 * for, and introspection's lists: they read the schema, which is small and fixed (and the depth
 * limit bounds an introspection query that loops through it).
 */
function multiplier(field: GraphQLField<unknown, unknown>, node: FieldNode, parentType: GraphQLNamedType, variables: Record<string, unknown>): number {
  if (isIntrospectionType(parentType)) return 1;
  let first: unknown;
  try {
    first = getArgumentValues(field, node, variables).first;
  } catch {
    first = undefined; // execution refuses the field's arguments itself
  }
  if (typeof first === "number") return Math.max(0, first);
  if (!isListType(getNullableType(field.type))) return 1;
  if (field.name === "edges" && parentType.name.endsWith("Connection")) return 1;
  return ASSUMED_LIST_LENGTH;
}

/**
 * The cost of an operation: every field resolved counts one, and a field's selection counts as
 * many times as the field's multiplier (so nested lists multiply). Fragments are costed once each.
 * `variables` are the coerced variable values.
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): number {
  const costed = new Map<string, number>();
  const fragmentCost = (name: string): number => {
    const known = costed.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    const type = fragment && schema.getType(fragment.typeCondition.name.value);
    if (!fragment || !type) return 0;
    costed.set(name, 0); // a fragment cycle (refused by graphql's own rules) costs nothing
    const cost = selectionSetCost(fragment.selectionSet, type);
    costed.set(name, cost);
    return cost;
  };
  const fieldCost = (node: FieldNode, parentType: GraphQLNamedType): number => {
    const field = fieldDefinition(schema, parentType, node.name.value);
    if (!field || !node.selectionSet) return 1;
    return 1 + multiplier(field, node, parentType, variables) * selectionSetCost(node.selectionSet, getNamedType(field.type));
  };
  const selectionSetCost = (set: SelectionSetNode, parentType: GraphQLNamedType): number => {
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) cost += fieldCost(selection, parentType);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) cost += fragmentCost(selection.name.value);
      else {
        const condition = selection.typeCondition && schema.getType(selection.typeCondition.name.value);
        cost += selectionSetCost(selection.selectionSet, condition ?? parentType);
      }
    }
    return cost;
  };
  const rootType = schema.getRootType(operation.operation);
  return rootType ? selectionSetCost(operation.selectionSet, rootType) : 0;
}
