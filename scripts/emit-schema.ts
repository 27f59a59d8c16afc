import { writeFile } from "node:fs/promises";
import { emitSdl } from "../src/graphql/sdl.js";

await writeFile(new URL("../schema/schema.graphql", import.meta.url), await emitSdl());
console.log("wrote schema/schema.graphql");
