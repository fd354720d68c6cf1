// The website guard's alerts for the whole app: the open incident count in the header, and a
// desktop notification when the live feed announces a new incident (admins and publishers).
import { isPermissionGranted, requestPermission, sendNotification } from "@tauri-apps/plugin-notification";
import { hub } from "./api";
import { hasRole, onChange } from "./app.svelte";
import type { ChangeEvent } from "./bindings/ChangeEvent";
import type { GuardIncidentSummary } from "./bindings/GuardIncidentSummary";

export const guardAlerts = $state<{ open: number; reload: number }>({ open: 0, reload: 0 });

/** Whether the signed-in user may see the guard. */
export function canGuard(): boolean {
  return hasRole("admin") || hasRole("publisher");
}

/** The incidents in `now` that were not open before (`known`: ids seen open earlier). */
export function freshIncidents(known: ReadonlySet<number>, now: readonly GuardIncidentSummary[]): GuardIncidentSummary[] {
  return now.filter((i) => i.state === "open" && !known.has(i.id));
}

/** Whether a change event is about the guard (or asks to refetch everything). */
export function concernsGuard(e: ChangeEvent): boolean {
  return e.kind === "guard" || e.kind === "resync";
}

/** Whether a change event announces a newly opened incident (its audit kind ends in ".incident_opened"). */
export function announcesIncident(e: ChangeEvent): boolean {
  return e.kind === "guard" && e.change.endsWith(".incident_opened");
}

type Notifier = (title: string, body: string) => void;

/**
 * A desktop notification: in the desktop app through Tauri's notification plugin (the system's
 * notification service), elsewhere through the webview's Notification API. Permission is asked
 * once, and a refusal (or no service) only means no notification: the header count still shows.
 */
export function desktopNotifier(): Notifier {
  if (typeof window !== "undefined" && "__TAURI_INTERNALS__" in window) return tauriNotifier();
  const N = typeof window !== "undefined" ? window.Notification : undefined;
  if (!N) return () => undefined;
  if (N.permission === "default") void N.requestPermission().catch(() => undefined);
  return (title, body) => {
    if (N.permission !== "granted") return;
    try {
      new N(title, { body, tag: "warta-guard" });
    } catch {
      // Some webviews refuse notifications from the page: the header count is enough.
    }
  };
}

function tauriNotifier(): Notifier {
  let allowed: Promise<boolean> | null = null;
  const permitted = () =>
    (allowed ??= isPermissionGranted()
      .then(async (granted) => granted || (await requestPermission()) === "granted")
      .catch(() => false));
  return (title, body) => {
    void permitted().then((ok) => {
      if (ok) sendNotification({ title, body });
    });
  };
}

/**
 * Keeps `guardAlerts` up to date while signed in and notifies of new incidents with `words`
 * (the title and body in the user's language). Returns the function that stops it.
 */
export function watchGuard(words: (i: GuardIncidentSummary) => { title: string; body: string }): () => void {
  if (!canGuard()) return () => undefined;
  const notify = desktopNotifier();
  let known: Set<number> | null = null;
  let stopped = false;
  const refresh = async (announce: boolean) => {
    try {
      const open = await hub.guardIncidents("open");
      if (stopped) return;
      if (known && announce) {
        for (const i of freshIncidents(known, open)) {
          const w = words(i);
          notify(w.title, w.body);
        }
      }
      known = new Set(open.map((i) => i.id));
      guardAlerts.open = open.length;
      guardAlerts.reload++;
    } catch {
      // The count stays as it was; the next event tries again.
    }
  };
  void refresh(false);
  const off = onChange((e) => {
    if (concernsGuard(e)) void refresh(announcesIncident(e));
  });
  return () => {
    stopped = true;
    off();
  };
}
