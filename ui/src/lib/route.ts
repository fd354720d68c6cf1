// Hash routes: `#/tasks`, `#/items`, `#/published`, `#/new`, `#/item/12`, `#/item/12/revisions`, `#/admin`,
// `#/sessions`, `#/outbox`, `#/guard`, `#/dashboard`, `#/incidents`, `#/incident/3`.

export type ItemTab = "content" | "page" | "timeline" | "revisions";

export type Route =
  | { name: "tasks" }
  | { name: "items" }
  | { name: "published" }
  | { name: "new" }
  | { name: "item"; id: number; tab: ItemTab | null }
  | { name: "admin" }
  | { name: "sessions" }
  | { name: "outbox" }
  | { name: "guard" }
  | { name: "dashboard" }
  | { name: "incidents" }
  | { name: "incident"; id: number };

const TABS: readonly ItemTab[] = ["content", "page", "timeline", "revisions"];

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  switch (parts[0]) {
    case "items":
      return { name: "items" };
    case "published":
      return { name: "published" };
    case "new":
      return { name: "new" };
    case "admin":
      return { name: "admin" };
    case "sessions":
      return { name: "sessions" };
    case "outbox":
      return { name: "outbox" };
    case "guard":
      return { name: "guard" };
    case "dashboard":
      return { name: "dashboard" };
    case "incidents":
      return { name: "incidents" };
    case "incident": {
      const id = Number(parts[1]);
      if (!Number.isInteger(id) || id <= 0) return { name: "incidents" };
      return { name: "incident", id };
    }
    case "item": {
      const id = Number(parts[1]);
      if (!Number.isInteger(id) || id <= 0) return { name: "tasks" };
      const tab = TABS.find((x) => x === parts[2]) ?? null;
      return { name: "item", id, tab };
    }
    default:
      return { name: "tasks" };
  }
}

export function itemHref(id: number, tab?: ItemTab): string {
  return tab ? `#/item/${id}/${tab}` : `#/item/${id}`;
}

export function incidentHref(id: number): string {
  return `#/incident/${id}`;
}
