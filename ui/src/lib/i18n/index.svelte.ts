// The reactive language: `t` reads `current.lang`, so every template using it re-renders on toggle.
import en from "./en.json";
import id from "./id.json";
import { translate, translateId, type Catalog, type Params } from "./translate";

export type Lang = "id" | "en";
export const catalogs: Record<Lang, Catalog> = { id, en };

const STORAGE_KEY = "warta.lang";

function initialLang(): Lang {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === "en" || stored === "id") return stored;
  } catch {
    // No storage: keep the default.
  }
  return "id";
}

const current = $state<{ lang: Lang }>({ lang: initialLang() });

export function lang(): Lang {
  return current.lang;
}

export function setLang(next: Lang): void {
  current.lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not persisted; still switched for this session.
  }
  document.documentElement.lang = next;
}

export function t(key: string, params?: Params): string {
  return translate(catalogs[current.lang], key, params);
}

export function stepName(step: string): string {
  return translateId(catalogs[current.lang], "step", step);
}

export function actionName(action: string): string {
  return translateId(catalogs[current.lang], "action", action);
}

export function roleName(role: string): string {
  return translateId(catalogs[current.lang], "role", role);
}
