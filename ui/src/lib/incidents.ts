// Incidents (SOP-D, SOP-B): names of their steps, actions and roles through the catalog, and
// which live events concern an incident.
import type { ChangeEvent } from "./bindings/ChangeEvent";
import type { Catalog } from "./i18n/translate";
import { translateId } from "./i18n/translate";

/** The SOPs incidents run in. */
export const INCIDENT_SOPS = ["sop-d", "sop-b"] as const;
export type IncidentSop = (typeof INCIDENT_SOPS)[number];

export function incidentStepName(catalog: Catalog, step: string): string {
  return translateId(catalog, "incident.step", step);
}

export function incidentActionName(catalog: Catalog, action: string): string {
  return translateId(catalog, "incident.action", action);
}

export function incidentRoleName(catalog: Catalog, role: string): string {
  return translateId(catalog, "incident.role", role);
}

/** Whether an event concerns incident `id` (a resync concerns everything). */
export function touchesIncident(e: ChangeEvent, id: number): boolean {
  return e.kind === "resync" || (e.kind === "incident" && e.incident_id === id);
}

/** Whether an event may change a list of incidents (who holds a role changes whose they are). */
export function touchesIncidents(e: ChangeEvent): boolean {
  return e.kind === "resync" || e.kind === "incident" || e.kind === "users";
}
