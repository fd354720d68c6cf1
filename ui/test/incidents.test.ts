// Incidents: every step, action and role of the incident SOPs has a name in both catalogs (read
// from the definitions the hub runs, so a new step cannot go unnamed), the routes, and which
// live events concern an incident.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import type { ChangeEvent } from "../src/lib/bindings/ChangeEvent";
import { INCIDENT_SOPS, incidentStepName, touchesIncident, touchesIncidents } from "../src/lib/incidents";
import { incidentHref, parseRoute } from "../src/lib/route";

const catalogs: Record<string, Record<string, string>> = { id, en };

/** Step, action and role ids of a definition file (`id = "..."` in its tables and actions). */
function ids(sop: string): { steps: string[]; actions: string[]; roles: string[] } {
  const text = readFileSync(join(__dirname, `../../sops/${sop}.toml`), "utf8");
  const tables = text.split(/^\[\[/m).slice(1);
  const first = (t: string) => /^id = "([^"]+)"/m.exec(t)?.[1] ?? "";
  return {
    steps: tables.filter((t) => t.startsWith("steps]]")).map(first),
    roles: tables.filter((t) => t.startsWith("roles]]")).map(first),
    actions: [...text.matchAll(/\{ id = "([^"]+)", to = /g)].map((m) => m[1]),
  };
}

describe("incident SOPs in the catalogs", () => {
  for (const sop of INCIDENT_SOPS) {
    test(`${sop}: every step, action and role has a name in both languages`, () => {
      const { steps, actions, roles } = ids(sop);
      expect(steps.length).toBeGreaterThan(4);
      expect(actions.length).toBeGreaterThan(4);
      expect(roles.length).toBeGreaterThan(2);
      const keys = [
        `incident.sop.${sop}`,
        ...steps.map((s) => `incident.step.${s}`),
        ...actions.map((a) => `incident.action.${a}`),
        ...roles.map((r) => `incident.role.${r}`),
      ];
      for (const [lang, cat] of Object.entries(catalogs)) {
        expect(keys.filter((k) => !(k in cat)), lang).toEqual([]);
      }
    });
  }

  test("names come from the catalog, unknown ids show as themselves", () => {
    expect(incidentStepName(id, "verify")).toBe("Pemeriksaan hasil");
    expect(incidentStepName(en, "verify")).toBe("Verify the work");
    expect(incidentStepName(en, "somewhere")).toBe("somewhere");
  });

  test("keys built at run time exist", () => {
    const built = [
      ...["good", "bad", "crawler"].map((l) => `incident.evidence_label.${l}`),
      ...["created", "action", "comment", "evidence", "overdue", "guard_repeat"].map((k) => `incident.kind.incident.${k}`),
      "incident.kind.refused",
    ];
    for (const cat of Object.values(catalogs)) expect(built.filter((k) => !(k in cat))).toEqual([]);
  });
});

describe("incident routes and events", () => {
  test("routes", () => {
    expect(parseRoute("#/incidents")).toEqual({ name: "incidents" });
    expect(parseRoute(incidentHref(7))).toEqual({ name: "incident", id: 7 });
    expect(parseRoute("#/incident/x")).toEqual({ name: "incidents" });
  });

  const ev = (kind: ChangeEvent["kind"], incident_id?: number): ChangeEvent => ({
    seq: 1,
    kind,
    item_id: null,
    incident_id,
    at: "2026-11-23T01:00:00Z",
    change: kind,
  });

  test("which events concern an incident", () => {
    expect(touchesIncident(ev("incident", 3), 3)).toBe(true);
    expect(touchesIncident(ev("incident", 4), 3)).toBe(false);
    expect(touchesIncident(ev("item"), 3)).toBe(false);
    expect(touchesIncident(ev("resync"), 3)).toBe(true);
    expect(touchesIncidents(ev("incident", 9))).toBe(true);
    expect(touchesIncidents(ev("comment"))).toBe(false);
  });
});
