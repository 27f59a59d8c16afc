import { createRequire } from "node:module";
import { configDefaults, defineConfig } from "vitest/config";

/** It builds and starts the whole server (`npm start`); beside timing-sensitive tests it would starve them. */
const WALKTHROUGH = "test/integration/newcomer-walkthrough.test.ts";

export default defineConfig({
  resolve: {
    // One graphql for all: vite would give src the ESM build while type-graphql, loaded by Node,
    // gets the CommonJS one, and graphql refuses types "from another module or realm".
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }],
  },
  test: {
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database; two cores, so keep parallelism modest.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: "suite", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, WALKTHROUGH] } },
      // Runs alone, once the suite is done.
      { extends: true, test: { name: "walkthrough", include: [WALKTHROUGH], sequence: { groupOrder: 1 } } },
    ],
  },
});
