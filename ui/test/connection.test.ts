// The connection choice and where the session token is kept, outside the shell.
import { afterEach, describe, expect, test } from "vitest";
import { currentToken, loadToken, setToken, tokenKeptIn, useTokenStorage } from "../src/lib/api";
import { BROWSER_CONNECTION, browserTokens, canChangeHub, mustChoose, officeChoice, type ConnectionInfo, type TokenStorage } from "../src/lib/connection";

const info = (over: Partial<ConnectionInfo> = {}): ConnectionInfo => ({ ...BROWSER_CONNECTION, ...over });

/** A Storage whose calls can be made to fail, like a browser with storage disabled. */
function fakeStorage(failing = false) {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => {
      if (failing) throw new Error("SecurityError");
      return map.get(k) ?? null;
    },
    setItem: (k: string, v: string) => {
      if (failing) throw new Error("QuotaExceededError");
      map.set(k, v);
    },
    removeItem: (k: string) => {
      if (failing) throw new Error("SecurityError");
      map.delete(k);
    },
  };
}

describe("the first-run question", () => {
  test("is asked only when the shell has nothing saved or implied", () => {
    expect(mustChoose(info({ needs_choice: true }))).toBe(true);
    expect(mustChoose(info())).toBe(false);
    // --hub decided it: never asked.
    expect(mustChoose(info({ needs_choice: true, forced: true, mode: "office", url: "https://h" }))).toBe(false);
    // A browser never asks.
    expect(mustChoose(BROWSER_CONNECTION)).toBe(false);
  });

  test("change hub is offered in the shell unless --hub set it", () => {
    expect(canChangeHub(info(), true)).toBe(true);
    expect(canChangeHub(info({ mode: "office", url: "https://h" }), true)).toBe(true);
    expect(canChangeHub(info({ forced: true }), true)).toBe(false);
    expect(canChangeHub(info(), false)).toBe(false);
  });

  test("an office address is trimmed; an empty one is no choice", () => {
    expect(officeChoice("  https://warta.kantor.go.id ")).toEqual({ mode: "office", url: "https://warta.kantor.go.id" });
    expect(officeChoice("   ")).toBeNull();
  });
});

describe("browser token storage", () => {
  test("keeps the token in the storage it is given", async () => {
    const storage = fakeStorage();
    const tokens = browserTokens(storage);
    expect(await tokens.load()).toEqual({ token: null, place: "browser" });
    expect(await tokens.save("abc")).toBe("browser");
    expect(storage.map.get("warta.token")).toBe("abc");
    // A new page load reads it back.
    expect(await browserTokens(storage).load()).toEqual({ token: "abc", place: "browser" });
    await tokens.clear();
    expect(storage.map.size).toBe(0);
  });

  test("falls back to memory when the storage refuses", async () => {
    const tokens = browserTokens(fakeStorage(true));
    expect(await tokens.load()).toEqual({ token: null, place: "memory" });
    expect(await tokens.save("abc")).toBe("memory");
    expect(await tokens.load()).toEqual({ token: "abc", place: "memory" });
    await tokens.clear();
    expect(await tokens.load()).toEqual({ token: null, place: "memory" });
  });

  test("without any storage the token lives in memory", async () => {
    const tokens = browserTokens(null);
    expect(await tokens.save("abc")).toBe("memory");
    expect(await tokens.load()).toEqual({ token: "abc", place: "memory" });
  });
});

describe("the client's token", () => {
  afterEach(() => useTokenStorage(browserTokens(null)));

  test("is used at once, kept in the storage, and read back at start-up", async () => {
    const storage = fakeStorage();
    useTokenStorage(browserTokens(storage));
    const kept = setToken("t0k3n");
    expect(currentToken()).toBe("t0k3n"); // before the storage answered
    expect(await kept).toBe("browser");
    useTokenStorage(browserTokens(storage)); // the next start
    expect(currentToken()).toBeNull();
    expect(await loadToken()).toBe("t0k3n");
    expect(tokenKeptIn()).toBe("browser");
    await setToken(null);
    expect(currentToken()).toBeNull();
    expect(storage.map.size).toBe(0);
  });

  test("a storage that throws (no keyring answer) leaves the token in memory", async () => {
    const broken: TokenStorage = {
      load: () => Promise.reject(new Error("keyring locked")),
      save: () => Promise.reject(new Error("keyring gone")),
      clear: () => Promise.reject(new Error("keyring gone")),
    };
    useTokenStorage(broken);
    expect(await loadToken()).toBeNull();
    expect(await setToken("t0k3n")).toBe("memory");
    expect(currentToken()).toBe("t0k3n");
    expect(await setToken(null)).toBe("memory");
    expect(currentToken()).toBeNull();
  });
});
