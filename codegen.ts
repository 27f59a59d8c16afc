import type { CodegenConfig } from "@graphql-codegen/cli";

/** Typed operations for tests and clients, from the committed SDL. */
const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  documents: ["test/operations/**/*.graphql"],
  generates: {
    "test/generated/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTimeISO: "string", JSONObject: "Record<string, unknown>", SafeInt: "number" },
      },
    },
  },
};

export default config;
