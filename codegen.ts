import type { CodegenConfig } from "@graphql-codegen/cli";

const typesConfig = {
  useTypeImports: true,
  enumsAsTypes: true,
  scalars: { DateTimeISO: "string", JSONObject: "Record<string, unknown>", SafeInt: "number" },
};

/** Typed operations from the committed SDL: for the tests and clients, and for the web app (as strings: it ships no GraphQL parser). */
const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  generates: {
    "test/generated/graphql.ts": {
      documents: ["test/operations/**/*.graphql"],
      plugins: ["typescript-operations", "typed-document-node"],
      config: typesConfig,
    },
    "web/src/generated/graphql.ts": {
      documents: ["web/operations/**/*.graphql"],
      plugins: ["typescript-operations", "typed-document-node"],
      config: { ...typesConfig, documentMode: "string" },
    },
  },
};

export default config;
