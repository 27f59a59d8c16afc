import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));

/**
 * A fresh directory holding what a clone would: the repository's files that git tracks or would
 * track (no dist/, no .data/), with the installed node_modules linked rather than installed again.
 */
export async function freshCheckout(): Promise<{ dir: string; remove(): Promise<void> }> {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPOSITORY, encoding: "utf8" });
  // A tracked file deleted in the working tree is not part of what would be committed.
  const files = [...new Set(listed.split("\0").filter(Boolean))].filter((file) => existsSync(path.join(REPOSITORY, file)));
  const dir = await mkdtemp(path.join(tmpdir(), "ackline-fresh-"));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    for (const file of files) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await copyFile(path.join(REPOSITORY, file), path.join(dir, file));
    }
    await symlink(path.join(REPOSITORY, "node_modules"), path.join(dir, "node_modules"), "dir");
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}
