// Reports and the dashboard (hub: crates/warta-hub/src/reports.rs): who may see them, the
// addresses of the documents, the period's defaults in WITA, and the bar chart's geometry.
import type { DashboardStep } from "./bindings/DashboardStep";
import type { Role } from "./bindings/Role";

export type ReportKind = "activity" | "site-status";
export type ReportFormat = "pdf" | "docx" | "csv";
export const REPORT_FORMATS: readonly ReportFormat[] = ["pdf", "docx", "csv"];

/** Reports and the dashboard are for officials, publishers and admins (the hub checks too). */
export function canReports(roles: readonly Role[]): boolean {
  return roles.some((r) => r === "official" || r === "publisher" || r === "admin");
}

export type Period = { from: string; to: string };

const WITA_OFFSET_MS = 8 * 60 * 60 * 1000;

function ymd(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The first of this month to today, in WITA, at the instant `nowMs`. */
export function thisMonth(nowMs: number): Period {
  const today = ymd(new Date(nowMs + WITA_OFFSET_MS));
  return { from: `${today.slice(0, 8)}01`, to: today };
}

/** A "YYYY-MM-DD" that is a real date. */
export function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && ymd(d) === s;
}

/** Whether the period can be asked for: real dates, `to` not before `from`. */
export function periodOk(p: Period): boolean {
  return isDate(p.from) && isDate(p.to) && p.from <= p.to;
}

export function dashboardPath(p: Period): string {
  return `/api/v1/dashboard?from=${encodeURIComponent(p.from)}&to=${encodeURIComponent(p.to)}`;
}

export function reportPath(kind: ReportKind, p: Period, format: ReportFormat, lang: string): string {
  const q = new URLSearchParams({ from: p.from, to: p.to, format, lang });
  return `/api/v1/reports/${kind}?${q.toString()}`;
}

export function sopPath(sop: string, format: ReportFormat, lang: string): string {
  const q = new URLSearchParams({ format, lang });
  return `/api/v1/reports/sops/${encodeURIComponent(sop)}?${q.toString()}`;
}

/** The name proposed when saving, as the hub names it. */
export function reportFileName(kind: ReportKind, p: Period, format: ReportFormat, lang: string): string {
  const stem =
    kind === "activity"
      ? lang === "en"
        ? "activity-report"
        : "laporan-kegiatan"
      : lang === "en"
        ? "website-status-report"
        : "laporan-status-website";
  return `${stem}-${p.from}-${p.to}.${format}`;
}

/** "67%" for 0.666…, "—" without a rate. */
export function percent(rate: number | null): string {
  return rate === null ? "—" : `${Math.round(rate * 100)}%`;
}

/** One bar of a step's chart: met and missed shares of `width`, and a quiet bar without data. */
export type Bar = { met: number; missed: number; empty: boolean };

export function bar(step: DashboardStep, width: number): Bar {
  if (step.met_rate === null || step.count === 0) return { met: 0, missed: 0, empty: true };
  const met = Math.round(step.met_rate * width);
  return { met, missed: width - met, empty: false };
}

/** A label cut to `max` characters with an ellipsis (the whole text goes in a tooltip). */
export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1)).trimEnd()}…`;
}

/** An incident's report, or its completion report once it is closed. */
export function incidentReportPath(id: number, completion: boolean, format: ReportFormat, lang: string): string {
  const q = new URLSearchParams({ format, lang });
  return `/api/v1/reports/incidents/${id}${completion ? "/completion" : ""}?${q.toString()}`;
}

/** The name proposed when saving an incident's report, as the hub names it. */
export function incidentReportName(id: number, completion: boolean, format: ReportFormat, lang: string): string {
  const stem = completion
    ? lang === "en"
      ? "incident-completion-report"
      : "laporan-penyelesaian-insiden"
    : lang === "en"
      ? "incident-report"
      : "laporan-insiden";
  return `${stem}-${id}.${format}`;
}
