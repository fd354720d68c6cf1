// Publishing to the office's websites, as the UI words it: the hub's error kinds and states, the
// schedule input's checks, the website form, and a photo's alternative text and caption.
// Pure: no DOM, no hub; unit-tested.
import type { PublishTargetInfo } from "./bindings/PublishTargetInfo";
import type { PublishTargetInput } from "./bindings/PublishTargetInput";
import { witaInputToIso } from "./time";

// --- what went wrong, by kind (`PublishingState.last_error_kind`, `PublicationStatus.last_error_kind`) ---

/** The kinds of failure the hub reports; each has its own sentence in the catalog. */
export const ERROR_KINDS = ["unavailable", "unauthorized", "rejected", "local"] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The catalog key wording a failure kind; an unknown or missing kind gets a general sentence. */
export function errorKindKey(kind: string | null | undefined): string {
  return `publishing.error.${(ERROR_KINDS as readonly string[]).includes(kind ?? "") ? kind : "other"}`;
}

/** The queue's badge for an item still going out (`publish`) or coming down (`unpublish`). */
export function pendingBadgeKey(action: string): string {
  return action === "unpublish" ? "queue.publishing.unpublish" : "queue.publishing.publish";
}

/** What a publication row says about its next attempt: the scheduled send, or a retry after a failure. */
export function nextAttemptKey(attempts: number): string {
  return attempts > 0 ? "publishing.next_retry" : "publishing.sends_at";
}

// --- schedule: the hub takes a time in the future, at most a year ahead ---

/** The hub's bound on a scheduled time (days ahead). */
export const SCHEDULE_MAX_DAYS = 366;

export type ScheduleProblem = "invalid" | "past" | "too_far";

/** Why the schedule input cannot be sent, or null when it can (an empty input means "now"). */
export function scheduleProblem(value: string, nowMs: number): ScheduleProblem | null {
  if (!value.trim()) return null;
  const iso = witaInputToIso(value);
  if (!iso) return "invalid";
  const at = Date.parse(iso);
  if (at <= nowMs) return "past";
  if (at > nowMs + SCHEDULE_MAX_DAYS * 24 * 60 * 60 * 1000) return "too_far";
  return null;
}

// --- websites (publishing targets) ---

/** Kinds an admin may add; the hub's own site (`static`) is always there. */
export const TARGET_KINDS = ["wordpress", "webhook", "markdown"] as const;
/** Every kind the hub may list, for the catalog. */
export const ALL_TARGET_KINDS = ["static", ...TARGET_KINDS] as const;

/** What the admin edits. The secret is write-only: always empty at first, never filled from the hub. */
export type TargetForm = {
  name: string;
  kind: string;
  url: string;
  username: string;
  folder: string;
  git: boolean;
  enabled: boolean;
  secret: string;
};

export function emptyTargetForm(kind: string = "wordpress"): TargetForm {
  return { name: "", kind, url: "", username: "", folder: "", git: false, enabled: true, secret: "" };
}

export function toTargetForm(t: PublishTargetInfo): TargetForm {
  return {
    name: t.name,
    kind: t.kind,
    url: t.url ?? "",
    username: t.username ?? "",
    folder: t.folder ?? "",
    git: t.git,
    enabled: t.enabled,
    secret: "",
  };
}

/** The inputs a kind of website has. */
export function targetInputs(kind: string): { url: boolean; username: boolean; folder: boolean; secret: boolean } {
  return {
    url: kind === "wordpress" || kind === "webhook",
    username: kind === "wordpress",
    folder: kind === "markdown",
    secret: kind === "wordpress" || kind === "webhook",
  };
}

/**
 * The request: only the fields of the form's kind, trimmed; no `secret` when the field is empty,
 * so the hub keeps the stored one.
 */
export function fromTargetForm(f: TargetForm): PublishTargetInput {
  const has = targetInputs(f.kind);
  const input: PublishTargetInput = { name: f.name.trim(), kind: f.kind, git: has.folder && f.git, enabled: f.enabled };
  if (has.url) input.url = f.url.trim();
  if (has.username) input.username = f.username.trim();
  if (has.folder) input.folder = f.folder.trim();
  if (has.secret && f.secret.trim()) input.secret = f.secret;
  return input;
}

/** The website fields the hub may name in a `validation` error. */
export const TARGET_FIELDS = ["name", "kind", "url", "username", "folder", "secret"] as const;
export type TargetField = (typeof TARGET_FIELDS)[number];

export function isTargetField(f: string | undefined): f is TargetField {
  return (TARGET_FIELDS as readonly string[]).includes(f ?? "");
}

/**
 * The catalog key explaining a refused field. The hub names `secret` both when a required
 * password or key is missing and when the secret store (the OS keyring, or an office server's
 * encrypted secrets file) cannot store a typed one: the form tells
 * them apart by whether anything was typed.
 */
export function targetErrorKey(field: TargetField, form: TargetForm): string {
  if (field !== "secret") return `websites.invalid.${field}`;
  if (form.secret.trim()) return "websites.invalid.secret_keyring";
  return form.kind === "webhook" ? "websites.invalid.secret_webhook" : "websites.invalid.secret_wordpress";
}

// --- a photo's alternative text and caption ---

/** The hub's limits, in characters (after trimming). */
export const ALT_TEXT_MAX = 300;
export const CAPTION_MAX = 1000;

export type PhotoTextField = "alt_text" | "caption";

export function isPhotoTextField(f: string | undefined): f is PhotoTextField {
  return f === "alt_text" || f === "caption";
}

/** Characters as the hub counts them (Unicode scalar values, not UTF-16 units). */
export function charCount(s: string): number {
  return [...s.trim()].length;
}

/** The first field over its limit, or null. */
export function photoTextProblem(alt: string, caption: string): PhotoTextField | null {
  if (charCount(alt) > ALT_TEXT_MAX) return "alt_text";
  if (charCount(caption) > CAPTION_MAX) return "caption";
  return null;
}
