// App-wide state: who is signed in, the current route, and the error banner.
import { currentToken, hub, hubBase, HubError, isTauri, setToken } from "./api";
import type { ChangeEvent } from "./bindings/ChangeEvent";
import type { LoginResponse } from "./bindings/LoginResponse";
import type { Role } from "./bindings/Role";
import type { User } from "./bindings/User";
import { LiveConnection, type LiveState } from "./live";
import { parseRoute, type Route } from "./route";
import { outboxCommands, setShellSession } from "./shell";

export const session = $state<{
  user: User | null;
  siteUrl: string;
  /** Why the sign-in screen is shown again: the hub ended the session (expired or revoked). */
  ended: boolean;
  /** Inside the desktop app, the keyring did not keep the token: closing the app signs out. */
  memoryOnly: boolean;
  /**
   * Started without the office hub (a reporter in the field): the user is the one last signed in
   * here, only new items (into the outbox) and the outbox work, and the hub is probed until it
   * answers.
   */
  offline: boolean;
}>({ user: null, siteUrl: "", ended: false, memoryOnly: false, offline: false });

// --- the user last signed in, kept to start without the hub ---

function userKey(): string {
  return `warta.user:${hubBase()}`;
}

/** Keeps (or forgets) who is signed in, so the app can start offline as them. */
export function rememberUser(user: User | null): void {
  try {
    if (user) localStorage.setItem(userKey(), JSON.stringify(user));
    else localStorage.removeItem(userKey());
  } catch {
    // No storage: the app only cannot start offline.
  }
}

/** The user last signed in against this hub, if any. */
export function rememberedUser(): User | null {
  try {
    const text = localStorage.getItem(userKey());
    return text ? (JSON.parse(text) as User) : null;
  } catch {
    return null;
  }
}

/** How often an offline window asks whether the hub is back. */
const PROBE_MS = 3000;
let probe: ReturnType<typeof setInterval> | null = null;

/** Works offline as `user` until the hub answers again. */
export function startOffline(user: User): void {
  session.user = user;
  session.offline = true;
  syncShellSession();
  if (probe) return;
  probe = setInterval(async () => {
    try {
      const me = await hub.me();
      stopProbe();
      session.user = me;
      rememberUser(me);
      session.offline = false;
      void outboxCommands.wake().catch(() => undefined);
      nav.reload++;
    } catch (e) {
      if (e instanceof HubError && e.status === 401) {
        stopProbe();
        session.offline = false;
        await signOut(false);
      }
      // Anything else: still no hub; try again.
    }
  }, PROBE_MS);
}

function stopProbe(): void {
  if (probe) clearInterval(probe);
  probe = null;
}

export function hasRole(role: Role): boolean {
  return session.user?.roles.includes(role) ?? false;
}

export function signedIn(res: LoginResponse): void {
  const kept = setToken(res.token);
  session.user = res.user;
  rememberUser(res.user);
  session.ended = false;
  banner.error = null;
  syncShellSession();
  void kept.then((place) => (session.memoryOnly = isTauri() && place === "memory"));
}

/**
 * Hands the current token to the desktop shell, which uploads batch imports as this user. Called on
 * sign-in, sign-out, and when a stored session is resumed at start-up. A failure only disables
 * imports, so it is logged rather than shown.
 */
export function syncShellSession(): void {
  setShellSession(currentToken()).catch((e) => console.error("set_session", e));
}

/**
 * Forgets the session locally (and in the keyring), whatever the hub says (it may be gone
 * already). `tellHub` false: the hub refused the session (expired or revoked), which the
 * sign-in screen then says.
 */
export async function signOut(tellHub: boolean): Promise<void> {
  if (tellHub) await hub.logout().catch(() => undefined);
  const hadUser = session.user !== null || currentToken() !== null;
  await setToken(null);
  rememberUser(null);
  stopProbe();
  session.offline = false;
  // A second refusal (two requests in flight) must not clear what the first one found.
  session.ended = tellHub ? false : session.ended || hadUser;
  session.user = null;
  banner.error = null;
  syncShellSession();
  if (location.hash !== "#/tasks") location.hash = "#/tasks";
}

// --- routing ---

export const nav = $state<{ route: Route; reload: number }>({
  route: parseRoute(typeof location === "undefined" ? "" : location.hash),
  reload: 0,
});

export function startRouter(): () => void {
  const onChange = () => {
    nav.route = parseRoute(location.hash);
    banner.error = null;
  };
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

export function go(hash: string): void {
  if (location.hash === hash) nav.reload++;
  else location.hash = hash;
}

// --- error banner: keeps the error itself, so its text follows the language toggle ---

export const banner = $state<{ error: unknown }>({ error: null });

export function showError(e: unknown): void {
  console.error(e);
  banner.error = e;
}

export function clearError(): void {
  banner.error = null;
}

// --- live updates: one connection while signed in; screens listen through `onChange` ---

export const live = $state<{ state: LiveState }>({ state: "off" });

const listeners = new Set<(e: ChangeEvent) => void>();
let connection: LiveConnection | null = null;

/** Calls `fn` with every change the hub announces; returns the unsubscribe function. */
export function onChange(fn: (e: ChangeEvent) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Opens the change feed (again) for the signed-in user. */
export function startLive(): void {
  stopLive();
  let resumed = false;
  const c = new LiveConnection({
    open: (lastEventId, signal) => {
      resumed = lastEventId !== null;
      return hub.openEvents(lastEventId, signal);
    },
    onEvent: (e) => {
      // A first connection cannot tell what changed before it: screens refetch once.
      const seen: ChangeEvent = e.kind === "ready" && !resumed ? { ...e, kind: "resync" } : e;
      if (seen.kind === "ready") return;
      for (const fn of listeners) fn(seen);
    },
    onState: (s) => {
      // Back after the hub was gone: what waits in the outbox can go now.
      if (s === "live" && live.state === "reconnecting" && isTauri()) void outboxCommands.wake().catch(() => undefined);
      live.state = s;
    },
    onUnauthenticated: () => void signOut(false),
  });
  connection = c;
  void c.run();
}

export function stopLive(): void {
  connection?.stop();
  connection = null;
  live.state = "off";
}
