// What the import panel shows, folded from the shell's `ImportEvent`s. Pure: unit-tested.
import type { Attachment } from "./bindings/Attachment";
import type { ImportEvent } from "./bindings/ImportEvent";
import type { ImportJob } from "./bindings/ImportJob";

/** A file the import did not attach, with the import's own plain-words reason. */
export type FileNote = { path: string; name: string; outcome: "skipped" | "failed"; reason: string };

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
      const note: FileNote =
        ev.type === "file_skipped"
          ? { path: ev.data.path, name: baseName(ev.data.path), outcome: "skipped", reason: ev.data.reason }
          : { path: ev.data.path, name: baseName(ev.data.path), outcome: "failed", reason: ev.data.error };
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
