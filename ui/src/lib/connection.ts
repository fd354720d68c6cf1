// Which hub the window talks to (solo: this laptop's embedded hub; office: the office's hub) and
// where the session token is kept. The desktop shell owns both (src-tauri/src/connection.rs); a
// browser (`vite dev`, vitest) has no shell: it never asks the first-run question and keeps the
// token in sessionStorage, or in memory when that is unavailable.
import { invoke } from "@tauri-apps/api/core";
import { shellError } from "./shell";

/** The shell's `ConnectionInfo`. */
export type ConnectionInfo = {
  mode: "solo" | "office";
  url: string | null;
  /** Nothing saved and nothing implied: ask solo or office before signing in. */
  needs_choice: boolean;
  /** Set by `--hub`/`WARTA_HUB`: the window cannot change it. */
  forced: boolean;
};

/** The shell's `Choice`, as saved in `connection.json`. */
export type Choice = { mode: "solo" } | { mode: "office"; url: string };

/** The shell's `HubCheck`. */
export type HubCheck = { url: string; needs_admin: boolean };

/** Where the session token is kept: the OS keyring (survives a restart), this browser tab, or memory only. */
export type TokenPlace = "keyring" | "browser" | "memory";

/** What the app runs with outside Tauri. */
export const BROWSER_CONNECTION: ConnectionInfo = { mode: "solo", url: null, needs_choice: false, forced: false };

/** Whether the first-run question is shown: only when the shell says nothing is chosen. */
export function mustChoose(info: ConnectionInfo): boolean {
  return info.needs_choice && !info.forced;
}

/** Whether the sign-in screen offers "change hub". */
export function canChangeHub(info: ConnectionInfo, inShell: boolean): boolean {
  return inShell && !info.forced;
}

/** What the user typed: empty is refused here; everything else is the shell's to check. */
export function officeChoice(typed: string): Choice | null {
  const url = typed.trim();
  return url ? { mode: "office", url } : null;
}

async function call<R>(cmd: string, args?: Record<string, unknown>): Promise<R> {
  try {
    return await invoke<R>(cmd, args);
  } catch (e) {
    throw shellError(e);
  }
}

export const shellConnection = {
  info: () => call<ConnectionInfo>("connection_info"),
  /** Checks an office hub's address (`/healthz`, `/api/v1/setup`) without saving it. */
  check: (url: string) => call<HubCheck>("connection_check", { url }),
  /** Saves the choice; `true` when the app restarts to use it. */
  choose: (choice: Choice) => call<boolean>("connection_choose", { choice }),
};

/** Keeps the session token somewhere that fits where the app runs. */
export interface TokenStorage {
  load(): Promise<{ token: string | null; place: TokenPlace }>;
  /** Resolves to where the token went (`memory` when the keyring or storage refused it). */
  save(token: string): Promise<TokenPlace>;
  clear(): Promise<void>;
}

/** The desktop shell: the OS keyring, one entry per hub; memory only when there is no keyring. */
export const shellTokens: TokenStorage = {
  async load() {
    const [token, place] = await call<[string | null, "keyring" | "memory"]>("session_get");
    return { token, place };
  },
  save: (token) => call<"keyring" | "memory">("session_set", { token }),
  clear: () => call<void>("session_clear"),
};

/** A browser: `storage` (sessionStorage) when it works, else memory. */
export function browserTokens(storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null, key = "warta.token"): TokenStorage {
  let memory: string | null = null;
  return {
    async load() {
      if (memory !== null) return { token: memory, place: "memory" };
      try {
        return { token: storage?.getItem(key) ?? null, place: storage ? "browser" : "memory" };
      } catch {
        return { token: null, place: "memory" };
      }
    },
    async save(token) {
      try {
        if (!storage) throw new Error("no storage");
        storage.setItem(key, token);
        memory = null;
        return "browser";
      } catch {
        memory = token;
        return "memory";
      }
    },
    async clear() {
      memory = null;
      try {
        storage?.removeItem(key);
      } catch {
        // Nothing was stored there.
      }
    },
  };
}
