import { describe, expect, test } from "vitest";
import type { Attachment } from "../src/lib/bindings/Attachment";
import type { MediaSettings } from "../src/lib/bindings/MediaSettings";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import { translate, type Catalog } from "../src/lib/i18n/translate";
import {
  attachmentFacts,
  extensionLabel,
  formatDimensions,
  formatDuration,
  fromMediaForm,
  isMediaField,
  kindKey,
  toMediaForm,
  webCopyStatus,
} from "../src/lib/media";

const tr = (c: Catalog) => (k: string, p?: Record<string, string | number>) => translate(c, k, p);

function attachment(over: Partial<Attachment>): Attachment {
  return {
    id: 1,
    filename: "foto.jpg",
    mime: "image/jpeg",
    kind: "photo",
    size: 2_500_000,
    sha256: "ab".repeat(32),
    uploaded_by: "reporter",
    uploaded_at: "2025-11-24T00:30:00Z",
    url: "/api/v1/attachments/1/signed/display/x",
    thumb_url: null,
    original_url: null,
    width: null,
    height: null,
    pages: null,
    duration_ms: null,
    codecs: null,
    similar_to: null,
    note: null,
    alt_text: "",
    caption: "",
    web_copy: "none",
    web_copy_url: null,
    web_copy_height: null,
    web_copy_size: null,
    web_copy_error: null,
    ...over,
  };
}

describe("durations", () => {
  test("minutes and seconds, hours when needed", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(7_400)).toBe("0:07");
    expect(formatDuration(59_600)).toBe("1:00");
    expect(formatDuration(725_000)).toBe("12:05");
    expect(formatDuration(3_723_000)).toBe("1:02:03");
    expect(formatDuration(-5)).toBe("0:00");
  });
});

describe("attachment facts", () => {
  test("a photo shows its size and pixels", () => {
    expect(attachmentFacts(attachment({ width: 1600, height: 1067 }), tr(en))).toEqual(["2.4 MB", "1600 × 1067"]);
    expect(formatDimensions(4000, 3000)).toBe("4000 × 3000");
  });

  test("a PDF shows its pages in the user's language", () => {
    const pdf = attachment({ kind: "document", mime: "application/pdf", size: 48_000, pages: 12 });
    expect(attachmentFacts(pdf, tr(id))).toEqual(["47 KB", "12 halaman"]);
    expect(attachmentFacts(pdf, tr(en))).toEqual(["47 KB", "12 pages"]);
  });

  test("a video shows frame size, duration and codecs", () => {
    const video = attachment({ kind: "video", size: 900, width: 1920, height: 1080, duration_ms: 65_000, codecs: "h264 / aac" });
    expect(attachmentFacts(video, tr(en))).toEqual(["900 B", "1920 × 1080", "1:05", "h264 / aac"]);
  });

  test("unknown kinds are documents; extensions for the placeholder", () => {
    expect(kindKey("photo")).toBe("attach.kind.photo");
    expect(kindKey("spreadsheet")).toBe("attach.kind.document");
    expect(extensionLabel("laporan.final.docx")).toBe("DOCX");
    expect(extensionLabel("README")).toBe("—");
  });
});

describe("media settings form", () => {
  const settings: MediaSettings = {
    keep_originals: true,
    send_originals: "unmetered",
    web_max: 1600,
    thumb_max: 320,
    photo_format: "jpeg",
    max_pixels: 100_000_000,
    max_attachment_bytes: 2048 * 1024 * 1024,
    max_document_bytes: 200 * 1024 * 1024,
    video_web_copy: true,
    video_web_height: 720,
    ffmpeg_available: true,
  };

  test("shows megapixels and megabytes, and converts back exactly", () => {
    const form = toMediaForm(settings);
    expect(form.max_megapixels).toBe(100);
    expect(form.max_attachment_mb).toBe(2048);
    expect(form.max_document_mb).toBe(200);
    expect(fromMediaForm(form)).toEqual(settings);
  });

  test("fractional megapixels survive the round trip", () => {
    const form = { ...toMediaForm(settings), max_megapixels: 12.5 };
    expect(fromMediaForm(form).max_pixels).toBe(12_500_000);
  });

  test("web copies of videos cannot be asked for while the server has no ffmpeg", () => {
    const form = toMediaForm({ ...settings, ffmpeg_available: false });
    expect(form.ffmpeg_available).toBe(false);
    expect(fromMediaForm({ ...form, video_web_copy: true }).video_web_copy).toBe(false);
    expect(fromMediaForm({ ...toMediaForm(settings), video_web_height: 480.4 }).video_web_height).toBe(480);
  });

  test("only settings fields are shown next to a field", () => {
    expect(isMediaField("video_web_height")).toBe(true);
    expect(isMediaField("web_max")).toBe(true);
    expect(isMediaField("max_document_bytes")).toBe(true);
    expect(isMediaField("title")).toBe(false);
    expect(isMediaField(undefined)).toBe(false);
  });
});

describe("web copies of videos", () => {
  const video = (over: Partial<Attachment>) => attachment({ kind: "video", mime: "video/quicktime", filename: "banjir.mov", ...over });

  test("no copy: nothing to say", () => {
    expect(webCopyStatus(video({}), tr(id))).toBeNull();
    expect(webCopyStatus(attachment({}), tr(en))).toBeNull();
  });

  test("being made, made with its height and size, or failed with the English reason kept for the tooltip", () => {
    expect(webCopyStatus(video({ web_copy: "pending" }), tr(id))).toEqual({ text: "Sedang membuat salinan web…", detail: null });
    const ready = video({ web_copy: "ready", web_copy_url: "/c", web_copy_height: 720, web_copy_size: 3_200_000 });
    expect(webCopyStatus(ready, tr(en))?.text).toBe("Web copy · 720p · 3.1 MB");
    expect(webCopyStatus(ready, tr(id))?.text).toMatch(/^Salinan web · 720p · /);
    const failed = video({ web_copy: "failed", web_copy_error: "ffmpeg could not process the file: header damaged" });
    expect(webCopyStatus(failed, tr(id))).toEqual({
      text: "Salinan web gagal dibuat; video asli yang akan diterbitkan.",
      detail: "ffmpeg could not process the file: header damaged",
    });
  });
});
