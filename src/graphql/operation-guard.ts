import type { ApolloServerPlugin } from "@apollo/server";
import {
  type DocumentNode,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
  type ValidationRule,
} from "graphql";
import type { GraphQLLimits } from "../config.js";
import type { GraphQLContext } from "./context.js";
import { badUserInput } from "./errors.js";
import { findUnfitText } from "./input-text.js";
import { ASSUMED_LIST_LENGTH, operationCost } from "./operation-cost.js";
import { fragmentsOf, operationShapeRule, tooComplex } from "./operation-shape.js";

export interface OperationRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * What every operation must pass before it runs, over HTTP (Apollo) and graphql-ws alike: a
 * bounded document, graphql's validation plus the shape limits (and no introspection when it is
 * off), then a bounded cost and input text PostgreSQL can store.
 */
export interface OperationGuard {
  /** Bounds the document's size (graphql-js stops parsing past `maxTokens`). */
  readonly parseOptions: { maxTokens: number };
  /** Rules beside graphql's own, for Apollo's `validationRules`. */
  readonly validationRules: readonly ValidationRule[];
  /** Apollo: checks the operation once it is resolved. */
  readonly apolloPlugin: ApolloServerPlugin<GraphQLContext>;
  /** graphql-ws: parses, validates and checks a subscribe message; its document, or why it is refused. */
  prepare(request: OperationRequest): { document: DocumentNode } | { errors: readonly GraphQLError[] };
}

export function createOperationGuard(options: { schema: GraphQLSchema; limits: GraphQLLimits; introspection: boolean }): OperationGuard {
  const { schema, limits } = options;
  const validationRules: ValidationRule[] = [operationShapeRule(limits), ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule])];

  const parseOptions = { maxTokens: limits.maxTokens };

  /** Why the resolved operation may not run: beyond the cost limit, or carrying text it cannot take. */
  function refusalOf(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>) {
    const cost = operationCost(schema, operation, fragmentsOf(document), variables);
    if (cost > limits.maxCost) {
      return tooComplex("cost", cost, limits.maxCost, `the operation costs ${cost} (each field 1, a list's selection times its \`first\` or ${ASSUMED_LIST_LENGTH})`);
    }
    return findUnfitText(document, variables);
  }

  const coerceVariables = (operation: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined) =>
    getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});

  return {
    parseOptions,
    validationRules,
    apolloPlugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ document, operation, request }) {
            if (!operation) return;
            // Variables that cannot be coerced stop the operation before anything runs; Apollo says why.
            const { coerced } = coerceVariables(operation, request.variables);
            const refusal = coerced && refusalOf(document, operation, coerced);
            if (refusal) throw refusal;
          },
        };
      },
    },
    prepare(request) {
      let document: DocumentNode;
      try {
        document = parse(request.query, parseOptions);
      } catch (error) {
        // A syntax error, or a RangeError from a literal nested too deep for the parser's recursion (as over HTTP).
        const syntax = error instanceof GraphQLError ? error : undefined;
        const details = syntax ? { source: syntax.source, positions: syntax.positions } : { originalError: error as Error };
        return { errors: [new GraphQLError((error as Error).message, { ...details, extensions: { code: "GRAPHQL_PARSE_FAILED" } })] };
      }
      const errors = validate(schema, document, [...specifiedRules, ...validationRules]);
      if (errors.length > 0) return { errors };
      const operation = getOperationAST(document, request.operationName);
      if (!operation) return { document }; // graphql-ws says it cannot tell which operation to run
      const { coerced, errors: variableErrors } = coerceVariables(operation, request.variables);
      if (variableErrors) return { errors: variableErrors.map(badUserInput) };
      const refusal = refusalOf(document, operation, coerced);
      return refusal ? { errors: [refusal] } : { document };
    },
  };
}
