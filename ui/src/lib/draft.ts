// The editor form's values: like `ItemContent`, but tags are the comma-separated text the user types.
import type { ItemContent } from "./bindings/ItemContent";

export type Draft = { title: string; summary: string; body: string; category: string; tags: string; unit: string };

export function toDraft(c: ItemContent): Draft {
  return { title: c.title, summary: c.summary, body: c.body, category: c.category, tags: c.tags.join(", "), unit: c.unit };
}

export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(",")) {
    const tag = raw.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

export function toContent(d: Draft): ItemContent {
  return {
    title: d.title.trim(),
    summary: d.summary,
    body: d.body,
    category: d.category.trim(),
    tags: parseTags(d.tags),
    unit: d.unit.trim(),
  };
}

/** True when saving `d` would change `c`. */
export function differs(d: Draft, c: ItemContent): boolean {
  const n = toContent(d);
  return (
    n.title !== c.title.trim() ||
    n.summary !== c.summary ||
    n.body !== c.body ||
    n.category !== c.category.trim() ||
    n.unit !== c.unit.trim() ||
    n.tags.join("\u0000") !== c.tags.join("\u0000")
  );
}
