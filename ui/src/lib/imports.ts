// What the import panel shows, folded from the shell's `ImportEvent`s. Pure: unit-tested.
import type { Attachment } from "./bindings/Attachment";
import type { ImportEvent } from "./bindings/ImportEvent";
import type { ImportJob } from "./bindings/ImportJob";
import type { ImportProblem } from "./bindings/ImportProblem";
import type { ImportProblemCode } from "./bindings/ImportProblemCode";
import { ERROR_CODES } from "./errors";
import type { T } from "./i18n/translate";

/** A file the import did not attach, and why (worded by `problemReason`). */
export type FileNote = { path: string; name: string; outcome: "skipped" | "failed"; problem: ImportProblem };

/** Every reason an import gives; each has its text at `import.problem.<code>`. */
export const IMPORT_PROBLEM_CODES: Record<ImportProblemCode, true> = {
  already_attached: true,
  duplicate: true,
  bad_filename: true,
  unsupported: true,
  damaged: true,
  too_large: true,
  unreadable: true,
  photo: true,
  hub: true,
};

/**
 * Why a file was skipped or failed, in the user's language: by its code, the hub's refusal by
 * the hub's own error code. The English `message` is for the tooltip and the log.
 */
export function problemReason(p: ImportProblem, t: T): string {
  if (p.code === "hub") {
    return p.hub_code && p.hub_code in ERROR_CODES ? t(`errors.${p.hub_code}`) : t("import.problem.hub");
  }
  if (!(p.code in IMPORT_PROBLEM_CODES)) return p.message;
  return t(`import.problem.${p.code}`, { other: p.other ?? "" });
}

export type ImportView = {
  job: ImportJob;
  /** Skips and failures, newest last. */
  notes: FileNote[];
  /** Attachments this run added, in arrival order. */
  added: Attachment[];
  /** A large file being sent in chunks, until it is attached, skipped or fails. */
  sending: Sending | null;
};

/** How much of a large file the hub has confirmed. */
export type Sending = { path: string; name: string; sent: number; total: number };

export function startView(job: ImportJob): ImportView {
  return { job, notes: [], added: [], sending: null };
}

/** The last path segment, whichever separator the system uses. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}

/** The job once it has stopped: done, failed or cancelled. */
export function isFinished(job: ImportJob): boolean {
  return job.state === "done" || job.state === "failed" || job.state === "cancelled";
}

/** Folds one event into the view. Events of another job leave it unchanged. */
export function applyImportEvent(view: ImportView, ev: ImportEvent): ImportView {
  switch (ev.type) {
    case "progress":
    case "finished": {
      if (ev.data.id !== view.job.id) return view;
      // A late progress report must not reopen a job that already finished.
      if (ev.type === "progress" && isFinished(view.job)) return view;
      return { ...view, job: ev.data };
    }
    case "file_progress": {
      if (ev.data.job_id !== view.job.id) return view;
      const { path, sent, total } = ev.data;
      return { ...view, sending: { path, name: baseName(path), sent, total } };
    }
    case "file_done": {
      if (ev.data.job_id !== view.job.id) return view;
      return { ...view, added: upsertAttachment(view.added, ev.data.attachment), sending: doneWith(view, ev.data.path) };
    }
    case "file_skipped":
    case "file_failed": {
      if (ev.data.job_id !== view.job.id) return view;
      const note: FileNote = {
        path: ev.data.path,
        name: baseName(ev.data.path),
        outcome: ev.type === "file_skipped" ? "skipped" : "failed",
        problem: ev.data.problem,
      };
      return { ...view, notes: [...view.notes, note], sending: doneWith(view, ev.data.path) };
    }
  }
}

/** The file being sent, unless it is the one that just ended. */
function doneWith(view: ImportView, path: string): Sending | null {
  return view.sending?.path === path ? null : view.sending;
}

/** Whole percent of a large file the hub has confirmed ("sending 43%"). */
export function percentSent(s: Sending): number {
  if (s.total <= 0) return 100;
  return Math.min(100, Math.floor((s.sent / s.total) * 100));
}

/** Files handled so far (attached, skipped or failed). */
export function handled(job: ImportJob): number {
  return job.done + job.skipped + job.failed;
}

/** Whole percent handled, 0 while the folder is still being counted. */
export function percentHandled(job: ImportJob): number {
  if (job.total <= 0) return isFinished(job) ? 100 : 0;
  return Math.min(100, Math.floor((handled(job) / job.total) * 100));
}

/** Replaces the attachment with the same id (its thumbnail may have arrived) or appends it. */
export function upsertAttachment(list: Attachment[], a: Attachment): Attachment[] {
  const i = list.findIndex((x) => x.id === a.id);
  if (i < 0) return [...list, a];
  const next = [...list];
  next[i] = a;
  return next;
}
