// The guard's alerts: which incidents are new (a desktop notification each), which live events
// concern the guard, and its route.
import { describe, expect, test } from "vitest";
import { announcesIncident, concernsGuard, freshIncidents } from "../src/lib/guard.svelte";
import { parseRoute } from "../src/lib/route";
import type { GuardIncidentSummary } from "../src/lib/bindings/GuardIncidentSummary";
import type { ChangeEvent } from "../src/lib/bindings/ChangeEvent";

function incident(id: number, state = "open"): GuardIncidentSummary {
  return {
    id,
    target_id: 2,
    target_name: "Portal",
    page_id: id,
    url: `https://kaltimprov.go.id/p/${id}`,
    kinds: ["gambling"],
    state,
    opened_at: "2026-03-10T01:00:00Z",
    last_seen_at: "2026-03-10T01:05:00Z",
    count: 1,
  };
}

describe("guard alerts", () => {
  test("only incidents not open before are new; a folded repeat is not", () => {
    const known = new Set([1, 2]);
    const now = [incident(1), incident(2), incident(3)];
    expect(freshIncidents(known, now).map((i) => i.id)).toEqual([3]);
    expect(freshIncidents(new Set([1, 2, 3]), now)).toEqual([]);
    expect(freshIncidents(new Set(), [incident(4, "resolved")])).toEqual([]);
  });

  test("guard and resync events refetch the count; others do not", () => {
    const e = (kind: ChangeEvent["kind"], change: string): ChangeEvent => ({ seq: 1, kind, item_id: null, at: "2026-03-10T01:00:00Z", change });
    expect(concernsGuard(e("guard", "guard.incident_opened"))).toBe(true);
    expect(concernsGuard(e("resync", "resync"))).toBe(true);
    expect(concernsGuard(e("item", "item.saved"))).toBe(false);
    expect(announcesIncident(e("guard", "guard.incident_opened"))).toBe(true);
    expect(announcesIncident(e("guard", "guard.incident_folded"))).toBe(false);
  });

  test("the guard screen has its route", () => {
    expect(parseRoute("#/guard")).toEqual({ name: "guard" });
  });
});
