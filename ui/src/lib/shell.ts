// Commands of the desktop shell (src-tauri) beyond `hub_url`: the session it acts with, and batch
// imports. Only inside Tauri; `isTauri()` says whether they exist.
import { Channel, invoke } from "@tauri-apps/api/core";
import { isTauri } from "./api";
import type { Attachment } from "./bindings/Attachment";
import type { ImportEvent } from "./bindings/ImportEvent";
import type { ImportProblem } from "./bindings/ImportProblem";
import type { ImportJob } from "./bindings/ImportJob";
import type { NewOutboxEntry } from "./bindings/NewOutboxEntry";
import type { OutboxEntry } from "./bindings/OutboxEntry";

/**
 * The codes of the shell's `CommandError` (src-tauri/src/imports.rs). The shell is not a hub
 * route, so this small type is written here rather than generated.
 */
export type ShellErrorCode =
  | "not_signed_in"
  | "job_not_found"
  | "already_running"
  | "unreadable_folder"
  | "invalid_url"
  | "unreachable"
  | "tls"
  | "not_a_hub"
  | "forced"
  | "entry_not_found"
  | "empty_title"
  | "unreadable_file"
  | "busy"
  | "unwritable_file"
  | "internal";

/** Every code, so the catalog test can check each has a text. */
export const SHELL_ERROR_CODES: Record<ShellErrorCode, true> = {
  not_signed_in: true,
  job_not_found: true,
  already_running: true,
  unreadable_folder: true,
  invalid_url: true,
  unreachable: true,
  tls: true,
  not_a_hub: true,
  forced: true,
  entry_not_found: true,
  empty_title: true,
  unreadable_file: true,
  busy: true,
  unwritable_file: true,
  internal: true,
};

/** A refused shell command: `{code, message}`; the UI shows its own text for `code`. */
export class ShellError extends Error {
  readonly code: ShellErrorCode;

  constructor(code: ShellErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = "ShellError";
    this.code = code;
  }
}

/** Turns whatever `invoke` rejected with into a `ShellError`. */
export function shellError(e: unknown): ShellError {
  if (typeof e === "object" && e !== null) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string" && code in SHELL_ERROR_CODES) return new ShellError(code as ShellErrorCode, String(message ?? ""));
  }
  return new ShellError("internal", e instanceof Error ? e.message : String(e));
}

async function call<R>(cmd: string, args?: Record<string, unknown>): Promise<R> {
  try {
    return await invoke<R>(cmd, args);
  } catch (e) {
    throw shellError(e);
  }
}

/** Tells the shell which session to act with (after login, and `null` after logout). */
export async function setShellSession(token: string | null): Promise<void> {
  if (!isTauri()) return;
  await call<void>("set_session", { token });
}

function channel(onEvent: (ev: ImportEvent) => void): Channel<ImportEvent> {
  const ch = new Channel<ImportEvent>();
  ch.onmessage = onEvent;
  return ch;
}

export const imports = {
  start: (itemId: number, folder: string, onEvent: (ev: ImportEvent) => void) =>
    call<ImportJob>("import_folder", { itemId, folder, onEvent: channel(onEvent) }),
  resume: (jobId: number, onEvent: (ev: ImportEvent) => void) =>
    call<ImportJob>("resume_import", { jobId, onEvent: channel(onEvent) }),
  cancel: (jobId: number) => call<void>("cancel_import", { jobId }),
  /** Unfinished jobs of one item (queued, or interrupted while running). */
  unfinished: (itemId: number) => call<ImportJob[]>("import_jobs", { itemId }),
};

/** The native folder picker; `null` when the user closes it. */
export async function pickFolder(title: string): Promise<string | null> {
  const { open } = await import("@tauri-apps/plugin-dialog");
  const picked = await open({ directory: true, multiple: false, title });
  return typeof picked === "string" ? picked : null;
}

/**
 * The reporter's outbox (src-tauri/src/outbox.rs): new items kept on this laptop and sent to the
 * hub when it can be reached. `list` also registers where changes go from then on.
 */
export const outboxCommands = {
  add: (entry: NewOutboxEntry) => call<OutboxEntry>("outbox_add", { entry }),
  list: (onEvent: (e: OutboxEntry) => void) => {
    const ch = new Channel<OutboxEntry>();
    ch.onmessage = onEvent;
    return call<OutboxEntry[]>("outbox_list", { onEvent: ch });
  },
  retry: (id: number) => call<OutboxEntry>("outbox_retry", { id }),
  remove: (id: number) => call<void>("outbox_remove", { id }),
  /** Try now: the hub may be reachable again. */
  wake: () => call<void>("outbox_wake"),
};

/** The native file picker for photos, documents and videos; `[]` when the user closes it. */
export async function pickFiles(title: string): Promise<string[]> {
  const { open } = await import("@tauri-apps/plugin-dialog");
  const picked = await open({ directory: false, multiple: true, title });
  if (picked === null) return [];
  return Array.isArray(picked) ? picked : [picked];
}

/** A photo the hub did not take, with the reason (worded from its code by `describeError`). */
export class AttachProblem extends Error {
  readonly problem: ImportProblem;

  constructor(problem: ImportProblem) {
    super(problem.message);
    this.name = "AttachProblem";
    this.problem = problem;
  }
}

/** Whether a file picked or dropped on an item is a photo the laptop makes renditions of. */
export function isPhotoFile(file: File): boolean {
  return /^image\/(jpeg|png|webp|tiff|heic|heif)$/.test(file.type);
}

/**
 * Attaches a photo through the desktop shell: its renditions are made on this laptop and only
 * they (and the original when the office's policy allows) travel, as for a folder import.
 */
export async function attachPhoto(itemId: number, file: File): Promise<Attachment> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let outcome: { attachment: Attachment | null; problem: ImportProblem | null };
  try {
    outcome = await invoke("attach_photo", bytes, {
      headers: { "x-item-id": String(itemId), "x-filename": encodeURIComponent(file.name) },
    });
  } catch (e) {
    throw shellError(e);
  }
  if (outcome.attachment) return outcome.attachment;
  throw new AttachProblem(outcome.problem ?? { code: "hub", message: "no attachment" });
}

/**
 * Saves a downloaded report: inside Tauri the shell asks where with the system's save dialog
 * (`save_report`) and resolves to the path written, or `null` when the user closed it; in a
 * browser the browser's own download takes it.
 */
export async function saveReport(name: string, blob: Blob): Promise<string | null> {
  if (isTauri()) {
    const bytes = Array.from(new Uint8Array(await blob.arrayBuffer()));
    return call<string | null>("save_report", { name, bytes });
  }
  const url = URL.createObjectURL(blob);
  try {
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return name;
}
