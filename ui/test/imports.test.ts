import { describe, expect, test } from "vitest";
import type { Attachment } from "../src/lib/bindings/Attachment";
import type { ImportEvent } from "../src/lib/bindings/ImportEvent";
import type { ImportJob } from "../src/lib/bindings/ImportJob";
import type { ImportProblem } from "../src/lib/bindings/ImportProblem";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import { translate, type T } from "../src/lib/i18n/translate";
import {
  applyImportEvent,
  baseName,
  handled,
  IMPORT_PROBLEM_CODES,
  isFinished,
  percentHandled,
  percentSent,
  problemReason,
  startView,
  upsertAttachment,
} from "../src/lib/imports";

const tr =
  (catalog: Record<string, string>): T =>
  (key, params) =>
    translate(catalog, key, params);

const alreadyAttached: ImportProblem = { code: "already_attached", other: "IMG_2.JPG", message: 'already attached to the item (as "IMG_2.JPG")' };
const truncated: ImportProblem = { code: "photo", message: "the JPEG is truncated" };

const job = (over: Partial<ImportJob> = {}): ImportJob => ({
  id: 7,
  item_id: 3,
  folder: "/media/reporter/SD/DCIM",
  state: "queued",
  total: 0,
  done: 0,
  skipped: 0,
  failed: 0,
  bytes_sent: 0,
  created_at: "2025-11-24T00:30:00Z",
  ...over,
});

const attachment = (id: number, thumb: string | null = null): Attachment => ({
  id,
  filename: `IMG_${id}.JPG`,
  mime: "image/jpeg",
  kind: "photo",
  size: 1000,
  sha256: "00".repeat(32),
  uploaded_by: "reporter",
  uploaded_at: "2025-11-24T00:30:00Z",
  url: `/a/${id}`,
  thumb_url: thumb,
  original_url: null,
  width: 1600,
  height: 1200,
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
});

const fold = (events: ImportEvent[]) => events.reduce(applyImportEvent, startView(job()));

describe("import progress", () => {
  test("a run from start to finish", () => {
    const view = fold([
      { type: "progress", data: job({ state: "running", total: 4 }) },
      { type: "file_done", data: { job_id: 7, path: "/media/reporter/SD/DCIM/IMG_1.JPG", attachment: attachment(1) } },
      { type: "file_skipped", data: { job_id: 7, path: "/media/reporter/SD/DCIM/IMG_2.JPG", problem: alreadyAttached } },
      { type: "file_failed", data: { job_id: 7, path: "C:\\DCIM\\broken.jpg", problem: truncated } },
      { type: "progress", data: job({ state: "running", total: 4, done: 1, skipped: 1, failed: 1, bytes_sent: 350_000 }) },
      { type: "file_done", data: { job_id: 7, path: "/media/reporter/SD/DCIM/IMG_4.JPG", attachment: attachment(4) } },
      { type: "finished", data: job({ state: "done", total: 4, done: 2, skipped: 1, failed: 1, bytes_sent: 700_000 }) },
    ]);
    expect(view.job.state).toBe("done");
    expect(isFinished(view.job)).toBe(true);
    expect(handled(view.job)).toBe(4);
    expect(percentHandled(view.job)).toBe(100);
    expect(view.added.map((a) => a.id)).toEqual([1, 4]);
    expect(view.notes).toEqual([
      { path: "/media/reporter/SD/DCIM/IMG_2.JPG", name: "IMG_2.JPG", outcome: "skipped", problem: alreadyAttached },
      { path: "C:\\DCIM\\broken.jpg", name: "broken.jpg", outcome: "failed", problem: truncated },
    ]);
  });

  test("events of another job are ignored", () => {
    const view = fold([
      { type: "progress", data: job({ id: 8, state: "running", total: 9 }) },
      { type: "file_failed", data: { job_id: 8, path: "/x/a.jpg", problem: truncated } },
      { type: "file_done", data: { job_id: 8, path: "/x/b.jpg", attachment: attachment(2) } },
    ]);
    expect(view).toEqual(startView(job()));
  });

  test("a late progress report does not reopen a finished job", () => {
    const view = fold([
      { type: "finished", data: job({ state: "cancelled", total: 10, done: 3 }) },
      { type: "progress", data: job({ state: "running", total: 10, done: 2 }) },
    ]);
    expect(view.job.state).toBe("cancelled");
    expect(view.job.done).toBe(3);
  });

  test("percent: nothing counted yet, partway, never above 100", () => {
    expect(percentHandled(job({ state: "running" }))).toBe(0);
    expect(percentHandled(job({ state: "done" }))).toBe(100);
    expect(percentHandled(job({ total: 3, done: 1 }))).toBe(33);
    expect(percentHandled(job({ total: 2, done: 2, failed: 1 }))).toBe(100);
  });

  test("a thumbnail that arrives later replaces the row instead of adding one", () => {
    const list = upsertAttachment(upsertAttachment([], attachment(1)), attachment(2));
    const filled = upsertAttachment(list, attachment(1, "/thumb/1"));
    expect(filled.map((a) => [a.id, a.thumb_url])).toEqual([
      [1, "/thumb/1"],
      [2, null],
    ]);
  });

  test("base names on either system", () => {
    expect(baseName("/media/SD/DCIM/100CANON/IMG_0001.JPG")).toBe("IMG_0001.JPG");
    expect(baseName("E:\\DCIM\\IMG_0002.JPG")).toBe("IMG_0002.JPG");
    expect(baseName("/media/SD/")).toBe("SD");
  });
});

describe("a large file sent in chunks", () => {
  test("shows how much the hub confirmed, until the file ends", () => {
    const path = "/media/reporter/SD/DCIM/VID_1.MP4";
    const sending = fold([
      { type: "progress", data: job({ state: "running", total: 2 }) },
      { type: "file_progress", data: { job_id: 7, path, sent: 43_000_000, total: 100_000_000 } },
      { type: "file_progress", data: { job_id: 99, path: "/other", sent: 1, total: 2 } },
    ]);
    expect(sending.sending).toEqual({ path, name: "VID_1.MP4", sent: 43_000_000, total: 100_000_000 });
    expect(percentSent(sending.sending!)).toBe(43);
    const other = applyImportEvent(sending, {
      type: "file_done",
      data: { job_id: 7, path: "/media/reporter/SD/DCIM/IMG_1.JPG", attachment: attachment(1) },
    });
    expect(other.sending?.path).toBe(path);
    const done = applyImportEvent(other, { type: "file_done", data: { job_id: 7, path, attachment: attachment(2) } });
    expect(done.sending).toBeNull();
    expect(percentSent({ path, name: "x", sent: 0, total: 0 })).toBe(100);
  });
});

describe("why a file was not imported, in the user's language", () => {
  test("by its code, Indonesian first, with the file it repeats", () => {
    expect(problemReason(alreadyAttached, tr(id))).toBe("sudah dilampirkan ke berita ini sebagai IMG_2.JPG");
    expect(problemReason(alreadyAttached, tr(en))).toBe("already attached to this item as IMG_2.JPG");
    expect(problemReason({ code: "duplicate", other: "DCIM/IMG_1.JPG", message: "same content as DCIM/IMG_1.JPG" }, tr(id))).toBe(
      "isinya sama dengan DCIM/IMG_1.JPG",
    );
    expect(problemReason(truncated, tr(id))).toBe("foto ukuran web tidak dapat dibuat; foto mungkin rusak");
    expect(problemReason({ code: "unsupported", message: "this file cannot be attached: …" }, tr(en))).toBe(
      "not a photo, document or video the office accepts",
    );
  });

  test("the hub's refusal by the hub's own error code, never its English message", () => {
    const refused: ImportProblem = { code: "hub", hub_code: "too_large", message: "the file is larger than the limit of 2 GiB" };
    expect(problemReason(refused, tr(id))).toBe(id["errors.too_large"]);
    expect(problemReason(refused, tr(en))).toBe(en["errors.too_large"]);
    expect(problemReason({ code: "hub", message: "?" }, tr(id))).toBe(id["import.problem.hub"]);
  });

  test("every code has a text in both languages, and none is the English detail", () => {
    for (const code of Object.keys(IMPORT_PROBLEM_CODES)) {
      for (const catalog of [id, en] as Record<string, string>[]) {
        expect(catalog[`import.problem.${code}`], code).toBeTruthy();
      }
      expect(problemReason({ code, other: "x", message: "ENGLISH DETAIL" } as ImportProblem, tr(id))).not.toContain("ENGLISH DETAIL");
    }
  });
});
