/** A shell block of the README that shows what it prints: its commands, and its `# → ` lines. */
export interface ReadmeExample {
  script: string;
  printed: string[];
}

const PRINTED = "# → ";

/** Every ```sh block of the README that shows its output, in reading order. */
export function readmeExamples(readme: string): ReadmeExample[] {
  return [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1]!.split("\n"))
    .filter((lines) => lines.some((line) => line.startsWith(PRINTED)))
    .map((lines) => ({
      script: lines.filter((line) => !line.startsWith(PRINTED)).join("\n"),
      printed: lines.filter((line) => line.startsWith(PRINTED)).map((line) => line.slice(PRINTED.length)),
    }));
}

/** A printed line as the README shows it, where `…` stands for whatever the run printed there. */
function linePattern(shown: string): RegExp {
  return new RegExp(`^${shown.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/**
 * The README's printed lines that the output does not show, in order: each must match a whole line
 * after the one the previous matched (lines the README leaves out may come between).
 */
export function unmatchedPrintedLines(output: string, printed: string[]): string[] {
  const lines = output.split("\n");
  let next = 0;
  for (const [index, shown] of printed.entries()) {
    const pattern = linePattern(shown);
    const found = lines.findIndex((line, at) => at >= next && pattern.test(line));
    if (found === -1) return printed.slice(index);
    next = found + 1;
  }
  return [];
}
