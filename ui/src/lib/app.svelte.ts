// App-wide state: who is signed in, the current route, and the error banner.
import { currentToken, hub, setToken } from "./api";
import type { LoginResponse } from "./bindings/LoginResponse";
import type { Role } from "./bindings/Role";
import type { User } from "./bindings/User";
import { parseRoute, type Route } from "./route";
import { setShellSession } from "./shell";

export const session = $state<{ user: User | null; siteUrl: string }>({ user: null, siteUrl: "" });

export function hasRole(role: Role): boolean {
  return session.user?.roles.includes(role) ?? false;
}

export function signedIn(res: LoginResponse): void {
  setToken(res.token);
  session.user = res.user;
  banner.error = null;
  syncShellSession();
}

/**
 * Hands the current token to the desktop shell, which uploads batch imports as this user. Called on
 * sign-in, sign-out, and when a stored session is resumed at start-up. A failure only disables
 * imports, so it is logged rather than shown.
 */
export function syncShellSession(): void {
  setShellSession(currentToken()).catch((e) => console.error("set_session", e));
}

/** Forgets the session locally, whatever the hub says (it may be gone already). */
export async function signOut(tellHub: boolean): Promise<void> {
  if (tellHub) await hub.logout().catch(() => undefined);
  setToken(null);
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
