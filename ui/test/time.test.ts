import { describe, expect, test } from "vitest";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import { translate, type Catalog } from "../src/lib/i18n/translate";
import { byDue, formatMinutes, formatSize, formatWita, formatWitaLong, isoToWitaInput, witaInputToIso } from "../src/lib/time";

const tr = (c: Catalog) => (k: string, p?: Record<string, string | number>) => translate(c, k, p);

describe("WITA times", () => {
  test("an instant is shown in WITA whatever the zone it was written in", () => {
    // 00:30 UTC is 08:30 WITA, Monday 24 November 2025.
    expect(formatWita("2025-11-24T00:30:00Z", tr(id))).toBe("Sen 24 Nov 08:30 WITA");
    expect(formatWita("2025-11-24T08:30:00+08:00", tr(en))).toBe("Mon 24 Nov 08:30 WITA");
    expect(formatWita("2025-11-24T09:30:00+09:00", tr(id))).toBe("Sen 24 Nov 08:30 WITA");
  });

  test("crossing midnight moves the day", () => {
    // 17:00 UTC Friday is 01:00 WITA Saturday.
    expect(formatWita("2025-08-15T17:00:00Z", tr(id))).toBe("Sab 16 Agu 01:00 WITA");
    expect(formatWitaLong("2025-12-31T16:05:00Z", tr(en))).toBe("Thu 1 Jan 2026 00:05 WITA");
  });

  test("no time and bad input", () => {
    expect(formatWita(null, tr(id))).toBe("—");
    expect(formatWita("not a date", tr(id))).toBe("not a date");
  });
});

describe("durations and sizes", () => {
  test("minutes", () => {
    expect(formatMinutes(15, tr(id))).toBe("15 mnt");
    expect(formatMinutes(180, tr(en))).toBe("3 h");
    expect(formatMinutes(90, tr(id))).toBe("1 jam 30 mnt");
    expect(formatMinutes(null, tr(id))).toBe("—");
  });

  test("sizes", () => {
    expect(formatSize(512)).toBe("512 B");
    expect(formatSize(2048)).toBe("2 KB");
    expect(formatSize(3.4 * 1024 * 1024)).toBe("3.4 MB");
  });
});

describe("queue order", () => {
  test("soonest due first, no due time last", () => {
    const row = (n: number, due: string | null) => ({ n, state: { due_at: due }, updated_at: "2025-11-24T00:00:00Z" });
    const sorted = byDue([row(1, null), row(2, "2025-11-24T05:00:00Z"), row(3, "2025-11-24T01:00:00Z")]);
    expect(sorted.map((r) => r.n)).toEqual([3, 2, 1]);
  });
});

describe("schedule input in WITA", () => {
  test("the typed wall clock is WITA, whatever the computer's zone", () => {
    // 08:30 WITA is 00:30 UTC.
    expect(witaInputToIso("2025-11-24T08:30")).toBe("2025-11-24T00:30:00.000Z");
    // Before 08:00 WITA the UTC date is the day before.
    expect(witaInputToIso("2025-11-24T07:15")).toBe("2025-11-23T23:15:00.000Z");
    expect(witaInputToIso("2026-01-01T00:05:30")).toBe("2025-12-31T16:05:30.000Z");
  });

  test("an instant shows as the WITA wall clock", () => {
    expect(isoToWitaInput("2025-11-24T00:30:00Z")).toBe("2025-11-24T08:30");
    expect(isoToWitaInput("2025-12-31T16:05:00Z")).toBe("2026-01-01T00:05");
    expect(isoToWitaInput("2025-11-24T09:30:00+09:00")).toBe("2025-11-24T08:30");
  });

  test("round trip", () => {
    for (const v of ["2025-02-28T23:59", "2028-02-29T12:00", "2025-11-24T00:00"]) {
      expect(isoToWitaInput(witaInputToIso(v))).toBe(v);
    }
  });

  test("incomplete or impossible times are refused; no time shows empty", () => {
    expect(witaInputToIso("")).toBeNull();
    expect(witaInputToIso("2025-11-24")).toBeNull();
    expect(witaInputToIso("2025-02-31T10:00")).toBeNull();
    expect(witaInputToIso("2025-11-24T24:00")).toBeNull();
    expect(witaInputToIso("2025-11-24T10:60")).toBeNull();
    expect(isoToWitaInput(null)).toBe("");
    expect(isoToWitaInput("nonsense")).toBe("");
  });
});
