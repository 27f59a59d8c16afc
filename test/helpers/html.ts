const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

/** The text of `<pre id="…">` in a page, unescaped: what a reader would copy. */
export function preformatted(page: string, id: string): string | undefined {
  const match = new RegExp(`<pre id="${id}">([\\s\\S]*?)</pre>`).exec(page);
  return match?.[1]!.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]!);
}
