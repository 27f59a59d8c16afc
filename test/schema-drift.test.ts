import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { emitSdl } from "../src/graphql/sdl.js";

/** The committed SDL is what the type-graphql classes emit, byte for byte (`npm run schema` rewrites it). */
describe("schema/schema.graphql", () => {
  it("matches the SDL emitted from src/graphql", async () => {
    const committed = await readFile(new URL("../schema/schema.graphql", import.meta.url), "utf8");
    const emitted = await emitSdl();
    expect(emitted).toContain("createTransfer(input: CreateTransferInput!): Transfer!");
    expect(emitted).toBe(committed);
  });
});
