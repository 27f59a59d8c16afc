import { readFile } from "node:fs/promises";
import semver from "semver";
import { describe, expect, it } from "vitest";

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

const readJson = async <T>(file: string): Promise<T> => JSON.parse(await readFile(new URL(`../../${file}`, import.meta.url), "utf8")) as T;

describe("Node versions", () => {
  it("every locked package accepts the oldest Node that package.json promises, so `npm ci` warns of no engine", async () => {
    const manifest = await readJson<{ engines: { node: string } }>("package.json");
    const lock = await readJson<{ packages: Record<string, LockedPackage> }>("package-lock.json");
    const oldest = semver.minVersion(manifest.engines.node)!;

    const refusing = Object.entries(lock.packages)
      .filter(([location]) => location !== "")
      .flatMap(([location, locked]) => {
        // A few old packages still write engines as an array of strings, which npm ignores.
        const range = Array.isArray(locked.engines) ? undefined : locked.engines?.node;
        return range && !semver.satisfies(oldest, range) ? [`${location.replace(/^.*node_modules\//, "")}@${locked.version} wants node ${range}`] : [];
      });
    expect(refusing).toEqual([]);
  });
});
