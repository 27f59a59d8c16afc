import { printSchema } from "graphql";
import { buildGraphQLSchema } from "./schema.js";

/** The SDL committed in `schema/schema.graphql`; a test fails when the classes drift from it. */
export async function emitSdl(): Promise<string> {
  const header = "# Generated from the type-graphql classes in src/graphql by `npm run schema`. Do not edit.\n\n";
  return `${header}${printSchema(await buildGraphQLSchema())}\n`;
}
