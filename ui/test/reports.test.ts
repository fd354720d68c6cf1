import { describe, expect, test } from "vitest";
import type { DashboardStep } from "../src/lib/bindings/DashboardStep";
import {
  bar,
  canReports,
  incidentReportName,
  incidentReportPath,
  isDate,
  percent,
  periodOk,
  reportFileName,
  reportPath,
  shorten,
  sopPath,
  thisMonth,
} from "../src/lib/reports";

function step(count: number, met: number, rate: number | null): DashboardStep {
  return {
    step: "review",
    number: 4,
    activity_id: "Filtering",
    activity_en: "Filter",
    standard_minutes: 60,
    count,
    met,
    in_progress: 0,
    met_rate: rate,
    median_minutes: 20,
    p90_minutes: 90,
  };
}

describe("reports", () => {
  test("officials, publishers and admins; not reporters or editors", () => {
    expect(canReports(["official"])).toBe(true);
    expect(canReports(["reporter", "publisher"])).toBe(true);
    expect(canReports(["admin"])).toBe(true);
    expect(canReports(["reporter"])).toBe(false);
    expect(canReports(["editor"])).toBe(false);
    expect(canReports([])).toBe(false);
  });

  test("this month runs in WITA: 23:30 UTC on the 30th is already the 1st", () => {
    expect(thisMonth(Date.parse("2026-11-23T01:00:00Z"))).toEqual({ from: "2026-11-01", to: "2026-11-23" });
    expect(thisMonth(Date.parse("2026-11-30T16:30:00Z"))).toEqual({ from: "2026-12-01", to: "2026-12-01" });
  });

  test("periods need real dates in order", () => {
    expect(isDate("2026-02-29")).toBe(false);
    expect(isDate("2028-02-29")).toBe(true);
    expect(isDate("2026-1-01")).toBe(false);
    expect(periodOk({ from: "2026-11-01", to: "2026-11-30" })).toBe(true);
    expect(periodOk({ from: "2026-11-30", to: "2026-11-01" })).toBe(false);
  });

  test("addresses and file names", () => {
    const p = { from: "2026-11-01", to: "2026-11-30" };
    expect(reportPath("activity", p, "docx", "id")).toBe("/api/v1/reports/activity?from=2026-11-01&to=2026-11-30&format=docx&lang=id");
    expect(sopPath("sop-a", "pdf", "en")).toBe("/api/v1/reports/sops/sop-a?format=pdf&lang=en");
    expect(reportFileName("site-status", p, "csv", "id")).toBe("laporan-status-website-2026-11-01-2026-11-30.csv");
    expect(reportFileName("activity", p, "pdf", "en")).toBe("activity-report-2026-11-01-2026-11-30.pdf");
  });

  test("bars split the width by the met rate", () => {
    expect(bar(step(2, 1, 0.5), 300)).toEqual({ met: 150, missed: 150, empty: false });
    expect(bar(step(3, 2, 2 / 3), 300)).toEqual({ met: 200, missed: 100, empty: false });
    expect(bar(step(0, 0, null), 300)).toEqual({ met: 0, missed: 0, empty: true });
    expect(percent(2 / 3)).toBe("67%");
    expect(percent(null)).toBe("—");
    expect(shorten("Filtering (penyaringan) informasi", 12)).toBe("Filtering (…");
    expect(shorten("Pendek", 12)).toBe("Pendek");
  });
});

describe("incident reports", () => {
  test("addresses and names", () => {
    expect(incidentReportPath(7, false, "pdf", "id")).toBe("/api/v1/reports/incidents/7?format=pdf&lang=id");
    expect(incidentReportPath(7, true, "docx", "en")).toBe("/api/v1/reports/incidents/7/completion?format=docx&lang=en");
    expect(incidentReportName(7, true, "pdf", "id")).toBe("laporan-penyelesaian-insiden-7.pdf");
    expect(incidentReportName(7, false, "csv", "en")).toBe("incident-report-7.csv");
  });
});
