// Times are shown in WITA (Asia/Makassar, UTC+8 all year: no daylight saving), the SOP's zone,
// whatever zone the computer is set to. Day and month names come from the catalog.
import type { T } from "./i18n/translate";

const WITA_OFFSET_MS = 8 * 60 * 60 * 1000;

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Wall-clock parts of an instant in WITA. */
function witaParts(iso: string): { y: number; mo: number; d: number; wd: number; h: number; mi: number } | null {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const w = new Date(ms + WITA_OFFSET_MS);
  return { y: w.getUTCFullYear(), mo: w.getUTCMonth(), d: w.getUTCDate(), wd: w.getUTCDay(), h: w.getUTCHours(), mi: w.getUTCMinutes() };
}

/** "Sen 24 Nov 08:30 WITA" (id) / "Mon 24 Nov 08:30 WITA" (en). */
export function formatWita(iso: string | null, t: T): string {
  if (!iso) return "—";
  const p = witaParts(iso);
  if (!p) return iso;
  return `${t(`time.day.${p.wd}`)} ${p.d} ${t(`time.month.${p.mo}`)} ${pad(p.h)}:${pad(p.mi)} WITA`;
}

/** As `formatWita`, with the year: for records (timeline, revisions, audit). */
export function formatWitaLong(iso: string | null, t: T): string {
  if (!iso) return "—";
  const p = witaParts(iso);
  if (!p) return iso;
  return `${t(`time.day.${p.wd}`)} ${p.d} ${t(`time.month.${p.mo}`)} ${p.y} ${pad(p.h)}:${pad(p.mi)} WITA`;
}

// --- the schedule input: a `datetime-local` value read as WITA wall clock, whatever the computer's zone ---

/** "2025-11-24T08:30" (WITA wall clock, seconds optional) → the instant as ISO UTC; null when not a real time. */
export function witaInputToIso(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? "0"].map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 31 Feb over to March: a rolled date is not what was typed.
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return new Date(ms - WITA_OFFSET_MS).toISOString();
}

/** An instant as the `datetime-local` value showing it in WITA ("2025-11-24T08:30"); "" for none or bad input. */
export function isoToWitaInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const p = witaParts(iso);
  if (!p) return "";
  return `${p.y}-${pad(p.mo + 1)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}`;
}

/** Working minutes as "1 j 30 mnt" / "1 h 30 min"; days are not folded in (a working day is not 24 h). */
export function formatMinutes(minutes: number | null, t: T): string {
  if (minutes === null) return "—";
  const m = Math.max(0, Math.round(minutes));
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (h === 0) return t("time.minutes", { m: rest });
  if (rest === 0) return t("time.hours", { h });
  return t("time.hours_minutes", { h, m: rest });
}

/** Bytes as "12 KB" / "3.4 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Sorts queue rows by due time, the ones without a due time last, ties by most recently updated. */
export function byDue<R extends { state: { due_at: string | null }; updated_at: string }>(rows: R[]): R[] {
  return [...rows].sort((a, b) => {
    const da = a.state.due_at ? Date.parse(a.state.due_at) : Infinity;
    const db = b.state.due_at ? Date.parse(b.state.due_at) : Infinity;
    if (da !== db) return da < db ? -1 : 1;
    return Date.parse(b.updated_at) - Date.parse(a.updated_at);
  });
}
