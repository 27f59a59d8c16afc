import { readFile } from "node:fs/promises";
import { type GraphQLObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { OWN_EVENT_SOURCES } from "../src/domain/model.js";
import { buildGraphQLSchema } from "../src/graphql/schema.js";
import { webhookProviders } from "../src/webhooks/providers/index.js";

const doors = [...webhookProviders.keys()].sort();

/** The first column of the README table whose header row is `header`, backticks removed. */
async function readmeTableKeys(header: string): Promise<string[]> {
  const lines = (await readFile(new URL("../README.md", import.meta.url), "utf8")).split("\n");
  const start = lines.indexOf(header);
  expect(start, `README table "${header}"`).toBeGreaterThan(-1);
  const rows = lines.slice(start + 2);
  return rows
    .slice(0, rows.findIndex((line) => !line.startsWith("|")))
    .map((row) => row.split("|")[1]!.trim().replaceAll("`", ""))
    .sort();
}

/** A door added to the registry in src/webhooks/providers/index.ts cannot leave the docs behind. */
describe("every webhook door is documented", () => {
  it("README's table of doors, formats and verification lists exactly the registered doors", async () => {
    expect(await readmeTableKeys("| door | format | verification |")).toEqual(doors);
  });

  it("README's table of deduplication keys lists exactly the registered doors", async () => {
    expect(await readmeTableKeys("| door | key |")).toEqual(doors);
  });

  it("ReceiptEvent.source's description names every door and every source of Ackline's own events", async () => {
    const receiptEvent = (await buildGraphQLSchema()).getType("ReceiptEvent") as GraphQLObjectType;
    const description = receiptEvent.getFields().source!.description!;
    const named = [...description.matchAll(/\b[a-z]+\b/g)].map((match) => match[0]);
    expect(named).toEqual(expect.arrayContaining([...doors, ...Object.keys(OWN_EVENT_SOURCES)]));
  });
});
