import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // One graphql for all: vite would give src the ESM build while type-graphql, loaded by Node,
    // gets the CommonJS one, and graphql refuses types "from another module or realm".
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
