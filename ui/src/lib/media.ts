// Pure formatting of what the hub knows about an attachment (size, pixels, pages, duration), and
// the unit conversions of the media settings form. No DOM, no hub: unit-tested.
import type { Attachment } from "./bindings/Attachment";
import type { MediaSettings } from "./bindings/MediaSettings";
import type { T } from "./i18n/translate";
import { formatSize } from "./time";

/** A video's length as "0:07", "12:05" or "1:02:03". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/** "4000 × 3000". */
export function formatDimensions(width: number, height: number): string {
  return `${width} × ${height}`;
}

/** The facts worth a glance, in order: size, pixels, pages, duration, codecs. */
export function attachmentFacts(a: Attachment, t: T): string[] {
  const facts = [formatSize(a.size)];
  if (a.width !== null && a.height !== null && a.width > 0 && a.height > 0) facts.push(formatDimensions(a.width, a.height));
  if (a.pages !== null) facts.push(t("attach.pages", { n: a.pages }));
  if (a.duration_ms !== null) facts.push(formatDuration(a.duration_ms));
  if (a.codecs) facts.push(a.codecs);
  return facts;
}

/**
 * A video's web copy in words: being made, made (with its height and size), or failed (the
 * hub's English reason goes in the tooltip). `null` when there is none to speak of.
 */
export function webCopyStatus(a: Attachment, t: T): { text: string; detail: string | null } | null {
  switch (a.web_copy) {
    case "pending":
      return { text: t("attach.web_copy.pending"), detail: null };
    case "ready": {
      const facts = [a.web_copy_height !== null ? `${a.web_copy_height}p` : null, a.web_copy_size !== null ? formatSize(a.web_copy_size) : null];
      const shown = facts.filter((f): f is string => f !== null);
      return { text: shown.length ? `${t("attach.web_copy.ready")} · ${shown.join(" · ")}` : t("attach.web_copy.ready"), detail: null };
    }
    case "failed":
      return { text: t("attach.web_copy.failed"), detail: a.web_copy_error };
    default:
      return null;
  }
}

/** The catalog key of an attachment's kind; anything unknown is shown as a document. */
export function kindKey(kind: string): string {
  return `attach.kind.${kind === "photo" || kind === "video" ? kind : "document"}`;
}

/** Three or four letters of the file's extension, for the placeholder when there is no preview. */
export function extensionLabel(name: string): string {
  return name.includes(".") ? name.split(".").pop()!.slice(0, 4).toUpperCase() : "—";
}

// --- media settings: the form shows megapixels and megabytes, the hub stores pixels and bytes ---

const MEGA = 1_000_000;
const MB = 1024 * 1024;

/** What the admin edits; numbers in the units shown next to each field. */
export type MediaForm = {
  keep_originals: boolean;
  send_originals: MediaSettings["send_originals"];
  web_max: number;
  thumb_max: number;
  photo_format: string;
  max_megapixels: number;
  max_attachment_mb: number;
  max_document_mb: number;
  video_web_copy: boolean;
  video_web_height: number;
  /** Reported by the hub; web copies cannot be turned on without it. */
  ffmpeg_available: boolean;
};

export function toMediaForm(s: MediaSettings): MediaForm {
  return {
    keep_originals: s.keep_originals,
    send_originals: s.send_originals,
    web_max: s.web_max,
    thumb_max: s.thumb_max,
    photo_format: s.photo_format,
    max_megapixels: Math.round((s.max_pixels / MEGA) * 10) / 10,
    max_attachment_mb: Math.round(s.max_attachment_bytes / MB),
    max_document_mb: Math.round(s.max_document_bytes / MB),
    video_web_copy: s.video_web_copy,
    video_web_height: s.video_web_height,
    ffmpeg_available: s.ffmpeg_available,
  };
}

export function fromMediaForm(f: MediaForm): MediaSettings {
  return {
    keep_originals: f.keep_originals,
    send_originals: f.send_originals,
    web_max: Math.round(f.web_max),
    thumb_max: Math.round(f.thumb_max),
    photo_format: f.photo_format,
    max_pixels: Math.round(f.max_megapixels * MEGA),
    max_attachment_bytes: Math.round(f.max_attachment_mb * MB),
    max_document_bytes: Math.round(f.max_document_mb * MB),
    video_web_copy: f.video_web_copy && f.ffmpeg_available,
    video_web_height: Math.round(f.video_web_height),
    ffmpeg_available: f.ffmpeg_available,
  };
}

/** The settings fields the hub may name in a `validation` error. */
export const MEDIA_FIELDS = [
  "web_max",
  "thumb_max",
  "photo_format",
  "max_pixels",
  "max_attachment_bytes",
  "max_document_bytes",
  "send_originals",
  "keep_originals",
  "video_web_copy",
  "video_web_height",
] as const;
export type MediaField = (typeof MEDIA_FIELDS)[number];

export function isMediaField(f: string | undefined): f is MediaField {
  return (MEDIA_FIELDS as readonly string[]).includes(f ?? "");
}
