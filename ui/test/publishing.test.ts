import { describe, expect, test } from "vitest";
import type { PublishTargetInfo } from "../src/lib/bindings/PublishTargetInfo";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import { translate, type Catalog } from "../src/lib/i18n/translate";
import {
  ALT_TEXT_MAX,
  CAPTION_MAX,
  charCount,
  emptyTargetForm,
  errorKindKey,
  fromTargetForm,
  isPhotoTextField,
  isTargetField,
  nextAttemptKey,
  pendingBadgeKey,
  photoTextProblem,
  scheduleProblem,
  targetErrorKey,
  targetInputs,
  toTargetForm,
} from "../src/lib/publishing";

const tr = (c: Catalog) => (k: string, p?: Record<string, string | number>) => translate(c, k, p);

describe("error kinds in the user's language", () => {
  test("each kind has its own sentence", () => {
    expect(tr(id)(errorKindKey("unauthorized"))).toBe("Situs menolak kata sandi aplikasi — perbarui di Administrasi › Situs web.");
    expect(tr(id)(errorKindKey("unavailable"))).toBe("Situs tidak dapat dihubungi; akan dicoba lagi otomatis.");
    expect(tr(en)(errorKindKey("unauthorized"))).toContain("application password");
    expect(tr(en)(errorKindKey("unavailable"))).toContain("try again automatically");
    const texts = ["unavailable", "unauthorized", "rejected", "local"].map((k) => tr(id)(errorKindKey(k)));
    expect(new Set(texts).size).toBe(4);
  });

  test("an unknown or missing kind gets the general sentence, never a raw key", () => {
    expect(errorKindKey("teapot")).toBe("publishing.error.other");
    expect(errorKindKey(null)).toBe("publishing.error.other");
    expect(errorKindKey(undefined)).toBe("publishing.error.other");
    expect(tr(id)(errorKindKey(null))).toBe(id["publishing.error.other"]);
  });

  test("queue badges and next attempts", () => {
    expect(tr(id)(pendingBadgeKey("publish"))).toBe("Menunggu terbit");
    expect(tr(en)(pendingBadgeKey("publish"))).toBe("Publishing pending");
    expect(pendingBadgeKey("unpublish")).toBe("queue.publishing.unpublish");
    expect(nextAttemptKey(0)).toBe("publishing.sends_at");
    expect(nextAttemptKey(2)).toBe("publishing.next_retry");
  });
});

describe("schedule checks", () => {
  // Monday 24 November 2025, 08:00 WITA.
  const now = Date.parse("2025-11-24T00:00:00Z");

  test("empty means at once", () => {
    expect(scheduleProblem("", now)).toBeNull();
    expect(scheduleProblem("  ", now)).toBeNull();
  });

  test("read as WITA: 08:30 WITA is after 08:00 WITA, 07:59 is before", () => {
    expect(scheduleProblem("2025-11-24T08:30", now)).toBeNull();
    expect(scheduleProblem("2025-11-24T07:59", now)).toBe("past");
    expect(scheduleProblem("2025-11-24T08:00", now)).toBe("past");
  });

  test("at most a year ahead, and a real time", () => {
    expect(scheduleProblem("2026-11-24T08:00", now)).toBeNull();
    expect(scheduleProblem("2026-11-26T08:00", now)).toBe("too_far");
    expect(scheduleProblem("2025-11-31T08:00", now)).toBe("invalid");
    expect(scheduleProblem("besok pagi", now)).toBe("invalid");
  });
});

describe("website form", () => {
  const wordpress: PublishTargetInfo = {
    id: 2,
    name: "Situs utama",
    kind: "wordpress",
    url: "https://example.go.id",
    username: "humas",
    folder: null,
    git: false,
    enabled: true,
    has_secret: true,
  };

  test("the secret is never filled from the hub", () => {
    const form = toTargetForm(wordpress);
    expect(form.secret).toBe("");
    expect(form).toMatchObject({ name: "Situs utama", kind: "wordpress", url: "https://example.go.id", username: "humas", folder: "" });
  });

  test("an empty secret is left out, so the stored one is kept", () => {
    const req = fromTargetForm(toTargetForm(wordpress));
    expect("secret" in req).toBe(false);
    expect(req).toEqual({ name: "Situs utama", kind: "wordpress", url: "https://example.go.id", username: "humas", git: false, enabled: true });
    expect("secret" in fromTargetForm({ ...toTargetForm(wordpress), secret: "   " })).toBe(false);
  });

  test("a typed secret is sent as typed", () => {
    expect(fromTargetForm({ ...toTargetForm(wordpress), secret: "abcd EFGH ijkl" }).secret).toBe("abcd EFGH ijkl");
  });

  test("only the kind's fields are sent, trimmed", () => {
    const webhook = fromTargetForm({ ...emptyTargetForm("webhook"), name: " CMS ", url: " https://cms.example.go.id/hook ", username: "x", folder: "/y", git: true, secret: "k" });
    expect(webhook).toEqual({ name: "CMS", kind: "webhook", url: "https://cms.example.go.id/hook", git: false, enabled: true, secret: "k" });
    const markdown = fromTargetForm({ ...emptyTargetForm("markdown"), name: "Hugo", folder: " /srv/site/content ", git: true, url: "https://x", secret: "s" });
    expect(markdown).toEqual({ name: "Hugo", kind: "markdown", folder: "/srv/site/content", git: true, enabled: true });
    const builtIn = fromTargetForm({ ...emptyTargetForm("static"), name: "Situs Warta" });
    expect(builtIn).toEqual({ name: "Situs Warta", kind: "static", git: false, enabled: true });
  });

  test("which inputs each kind has", () => {
    expect(targetInputs("wordpress")).toEqual({ url: true, username: true, folder: false, secret: true });
    expect(targetInputs("webhook")).toEqual({ url: true, username: false, folder: false, secret: true });
    expect(targetInputs("markdown")).toEqual({ url: false, username: false, folder: true, secret: false });
    expect(targetInputs("static")).toEqual({ url: false, username: false, folder: false, secret: false });
  });

  test("a refused field is explained in the user's language", () => {
    const form = emptyTargetForm("wordpress");
    expect(tr(id)(targetErrorKey("url", form))).toContain("https://");
    expect(tr(en)(targetErrorKey("folder", form))).toContain("full path");
    expect(isTargetField("url")).toBe(true);
    expect(isTargetField("title")).toBe(false);
    expect(isTargetField(undefined)).toBe(false);
  });

  test("a refused secret: missing when nothing was typed, the secret store when something was", () => {
    expect(targetErrorKey("secret", emptyTargetForm("wordpress"))).toBe("websites.invalid.secret_wordpress");
    expect(targetErrorKey("secret", emptyTargetForm("webhook"))).toBe("websites.invalid.secret_webhook");
    expect(targetErrorKey("secret", { ...emptyTargetForm("webhook"), secret: "k" })).toBe("websites.invalid.secret_keyring");
    expect(tr(id)("websites.invalid.secret_keyring")).toContain("keyring sistem operasi");
    expect(tr(id)("websites.invalid.secret_keyring")).toContain("berkas rahasia server");
  });
});

describe("photo text", () => {
  test("limits counted in characters as the hub counts them, after trimming", () => {
    expect(charCount("  abc  ")).toBe(3);
    // One emoji is one character for the hub, two UTF-16 units for JavaScript.
    expect(charCount("😀")).toBe(1);
    expect(photoTextProblem("a".repeat(ALT_TEXT_MAX), "b".repeat(CAPTION_MAX))).toBeNull();
    expect(photoTextProblem("😀".repeat(ALT_TEXT_MAX), "")).toBeNull();
    expect(photoTextProblem("a".repeat(ALT_TEXT_MAX + 1), "")).toBe("alt_text");
    expect(photoTextProblem("", "b".repeat(CAPTION_MAX + 1))).toBe("caption");
  });

  test("the message names the limit and the count", () => {
    expect(tr(id)("attach.invalid.alt_text", { max: ALT_TEXT_MAX, n: 301 })).toBe("Teks alternatif paling banyak 300 karakter (sekarang 301).");
    expect(isPhotoTextField("caption")).toBe(true);
    expect(isPhotoTextField("title")).toBe(false);
  });
});
