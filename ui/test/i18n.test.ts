// The catalogs: same keys in both languages, no empty text, and every key the sources use exists.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import { translate } from "../src/lib/i18n/translate";
import { ERROR_CODES } from "../src/lib/errors";
import { ALL_ROLES } from "../src/lib/roles";
import { MEDIA_FIELDS } from "../src/lib/media";
import { ALL_TARGET_KINDS, ERROR_KINDS, TARGET_FIELDS } from "../src/lib/publishing";
import { SHELL_ERROR_CODES } from "../src/lib/shell";
import { IMPORT_PROBLEM_CODES } from "../src/lib/imports";

const SRC = join(__dirname, "../src");
const catalogs: Record<string, Record<string, string>> = { id, en };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "bindings" ? [] : sources(path);
    return /\.(svelte|ts)$/.test(name) ? [path] : [];
  });
}

/** Keys written out in the sources: `t("a.b")`, and string literals in a namespace the catalog uses. */
function usedKeys(): Map<string, string> {
  const namespaces = new Set(Object.keys(id).map((k) => k.split(".")[0]));
  const found = new Map<string, string>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bt\(\s*["'`]([^"'`$]+)["'`]/g)) found.set(m[1], file);
    for (const m of text.matchAll(/["'`]([a-z_]+(?:\.[a-z0-9_]+)+)["'`]/g)) {
      if (namespaces.has(m[1].split(".")[0])) found.set(m[1], file);
    }
  }
  return found;
}

describe("catalogs", () => {
  test("id.json and en.json have exactly the same keys", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(id).sort());
  });

  test("no text is empty", () => {
    for (const [lang, cat] of Object.entries(catalogs)) {
      for (const [key, text] of Object.entries(cat)) expect(text.trim(), `${lang}:${key}`).not.toBe("");
    }
  });

  test("both languages use the same {parameters} in each text", () => {
    const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(id)) expect(params(en[key as keyof typeof en]), key).toEqual(params(id[key as keyof typeof id]));
  });

  test("every key written in the sources exists", () => {
    const keys = usedKeys();
    expect(keys.size).toBeGreaterThan(100);
    // A literal that is a prefix (`translateId(catalog, "timeline.kind", kind)`) is checked below instead.
    const isPrefix = (k: string) => Object.keys(id).some((key) => key.startsWith(`${k}.`));
    const missing = [...keys].filter(([k]) => !(k in id) && !isPrefix(k)).map(([k, file]) => `${k} (${file.replace(SRC, "src")})`);
    expect(missing).toEqual([]);
  });

  test("keys built at run time exist", () => {
    const built = [
      ...Object.keys(ERROR_CODES).map((c) => `errors.${c}`),
      ...ALL_ROLES.map((r) => `role.${r}`),
      ...["collect", "handover", "edit", "review", "publish", "published", "rejected", "not_published"].map((s) => `step.${s}`),
      ...["submit", "claim", "send_to_official", "return_to_reporter", "approve", "reject", "send_back", "publish", "not_publish"].map(
        (a) => `action.${a}`,
      ),
      ...["tasks", "items", "published"].flatMap((m) => ["title", "intro", "empty"].map((x) => `queue.${m}.${x}`)),
      ...["content", "page", "timeline", "revisions"].map((x) => `tab.${x}`),
      ...["users", "units", "holidays", "media", "websites", "audit", "sops", "soproles"].map((x) => `admin.tab.${x}`),
      ...[...ERROR_KINDS, "other"].map((k) => `publishing.error.${k}`),
      ...["publish", "unpublish"].map((a) => `publishing.action.${a}`),
      ...["pending", "done", "cancelled"].map((s) => `publishing.state.${s}`),
      ...ALL_TARGET_KINDS.map((k) => `websites.kind.${k}`),
      ...TARGET_FIELDS.filter((f) => f !== "secret").map((f) => `websites.invalid.${f}`),
      ...TARGET_FIELDS.map((f) => `field.${f}`),
      ...["alt_text", "caption"].flatMap((f) => [`attach.invalid.${f}`, `field.${f}`]),
      ...["invalid", "past", "too_far", "refused"].map((x) => `schedule.${x}`),
      ...["scheduled_at", "note"].map((f) => `field.${f}`),
      ...["correct", "unpublish"].map((a) => `action.${a}`),
      ...Object.keys(SHELL_ERROR_CODES).map((c) => `errors.shell.${c}`),
      ...["queued", "running", "done", "failed", "cancelled"].map((x) => `import.state.${x}`),
      ...Object.keys(IMPORT_PROBLEM_CODES).map((c) => `import.problem.${c}`),
      ...["pending", "ready", "failed"].map((x) => `attach.web_copy.${x}`),
      ...MEDIA_FIELDS.flatMap((f) => [`media.invalid.${f}`, `field.${f}`]),
      ...["never", "unmetered", "always"].map((x) => `media.send.${x}`),
      ...["jpeg", "webp"].map((x) => `media.format.${x}`),
      ...["photo", "document", "video"].map((x) => `attach.kind.${x}`),
      ...["insert", "delete"].map((x) => `diff.${x}`),
      ...Array.from({ length: 7 }, (_, i) => `time.day.${i}`),
      ...Array.from({ length: 12 }, (_, i) => `time.month.${i}`),
      ...["title", "summary", "body", "category", "tags", "unit"].map((f) => `field.${f}`),
      ...["created", "saved", "action", "comment", "attached", "refused", "claimed", "released", "lock_broken"].map(
        (k) => `timeline.kind.item.${k}`,
      ),
      ...["item.correct", "item.unpublish", "item.published", "item.unpublished", "publish.done", "publish.failed", "publish.cancelled", "publish.retry", "publish.live_check", "unpublish.done", "attachment.text", "attachment.web_copy", "attachment.web_copy_failed"].map(
        (k) => `timeline.kind.${k}`,
      ),
    ];
    expect(built.filter((k) => !(k in id))).toEqual([]);
  });

  test("the SOP-A step and action ids match sops/sop-a.toml", () => {
    const toml = readFileSync(join(__dirname, "../../sops/sop-a.toml"), "utf8");
    const ids = [...toml.matchAll(/\bid = "([a-z_]+)"/g)].map((m) => m[1]);
    for (const x of ids.filter((x) => x !== "sop")) {
      const known = `step.${x}` in id || `action.${x}` in id || `role.${x}` in id;
      expect(known, x).toBe(true);
    }
  });
});

describe("translate", () => {
  test("fills parameters and shows a missing key as itself", () => {
    expect(translate({ a: "Hai {name}, {n}" }, "a", { name: "Ani", n: 2 })).toBe("Hai Ani, 2");
    expect(translate({}, "no.such.key")).toBe("no.such.key");
    expect(translate({ a: "{x}" }, "a", {})).toBe("{x}");
  });
});
