import { describe, expect, test } from "vitest";
import { contentDiff, lineDiff } from "../src/lib/diff";
import { differs, parseTags, toContent, toDraft } from "../src/lib/draft";
import { parseRoute } from "../src/lib/route";

const content = { title: "Judul", summary: "R", body: "a\nb", category: "K", tags: ["x", "y"], unit: "U" };

describe("draft", () => {
  test("tags are split on commas, trimmed, deduplicated", () => {
    expect(parseTags(" e2e, uji ,, uji,")).toEqual(["e2e", "uji"]);
  });

  test("a draft made from content does not differ from it", () => {
    expect(differs(toDraft(content), content)).toBe(false);
    expect(differs({ ...toDraft(content), tags: "x,y" }, content)).toBe(false);
    expect(differs({ ...toDraft(content), body: "a\nc" }, content)).toBe(true);
    expect(toContent({ ...toDraft(content), title: "  T  " }).title).toBe("T");
  });
});

describe("local diff", () => {
  test("line diff marks inserts and deletes", () => {
    expect(lineDiff("a\nb\nc", "a\nc\nd")).toEqual([
      { op: "equal", text: "a" },
      { op: "delete", text: "b" },
      { op: "equal", text: "c" },
      { op: "insert", text: "d" },
    ]);
  });

  test("content diff flags only changed fields", () => {
    const changed = contentDiff(content, { ...content, body: "a\nB" }).filter((f) => f.changed).map((f) => f.field);
    expect(changed).toEqual(["body"]);
  });
});

describe("routes", () => {
  test("hashes", () => {
    expect(parseRoute("")).toEqual({ name: "tasks" });
    expect(parseRoute("#/item/12")).toEqual({ name: "item", id: 12, tab: null });
    expect(parseRoute("#/item/12/revisions")).toEqual({ name: "item", id: 12, tab: "revisions" });
    expect(parseRoute("#/item/abc")).toEqual({ name: "tasks" });
    expect(parseRoute("#/published")).toEqual({ name: "published" });
    expect(parseRoute("#/dashboard")).toEqual({ name: "dashboard" });
  });
});
