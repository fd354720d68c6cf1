import { describe, expect, test } from "vitest";
import { errorFromBody, HubError, NetworkError } from "../src/lib/api";
import type { ApiError } from "../src/lib/bindings/ApiError";
import { describeError } from "../src/lib/errors";
import { ShellError, shellError } from "../src/lib/shell";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import { translate, type Catalog } from "../src/lib/i18n/translate";

const inLang = (catalog: Catalog) => (e: unknown) => describeError(e, (k, p) => translate(catalog, k, p), catalog);
const idText = inLang(id);
const enText = inLang(en);
const err = (status: number, body: ApiError) => new HubError(status, body);

describe("error bodies", () => {
  test("an ApiError body is kept as is", () => {
    const e = errorFromBody(409, JSON.stringify({ code: "version_conflict", message: "stale", current_version: 4 }));
    expect(e.status).toBe(409);
    expect(e.body).toEqual({ code: "version_conflict", message: "stale", current_version: 4 });
  });

  test("a body that is not an ApiError still gets a code from the status", () => {
    expect(errorFromBody(401, "nope").body.code).toBe("unauthenticated");
    expect(errorFromBody(404, "").body.code).toBe("not_found");
    expect(errorFromBody(502, "<html>bad gateway</html>").body).toEqual({ code: "internal", message: "<html>bad gateway</html>" });
    expect(errorFromBody(500, JSON.stringify({ error: "x" })).body.code).toBe("internal");
  });
});

describe("error texts", () => {
  test("invalid_transition lists the allowed actions, translated", () => {
    const e = err(409, { code: "invalid_transition", message: "x", allowed_actions: ["approve", "send_back"] });
    expect(enText(e)).toBe("This action is not possible in the current step. Possible now: Approve, Send back for editing.");
    expect(idText(e)).toContain("Setujui, Kembalikan untuk disunting");
    expect(enText(err(409, { code: "invalid_transition", message: "x", allowed_actions: [] }))).toContain("nothing else");
  });

  test("version_conflict says the text is kept", () => {
    const text = enText(err(409, { code: "version_conflict", message: "x", current_version: 7 }));
    expect(text).toContain("version 7");
    expect(text).toContain("Your text is kept");
  });

  test("too many sign-in attempts says how long to wait, in whole minutes", () => {
    const e = err(429, { code: "too_many_attempts", message: "x", retry_after_secs: 130 });
    expect(idText(e)).toContain("3 menit");
    expect(enText(e)).toContain("3 minute");
  });

  test("locked names the holder", () => {
    expect(idText(err(423, { code: "locked", message: "x", holder: "Budi" }))).toContain("dikunci oleh Budi");
    expect(enText(err(423, { code: "locked", message: "x", holder: "Budi" }))).toContain("locked by Budi");
  });

  test("validation names the field in the user's language", () => {
    expect(idText(err(400, { code: "validation", message: "x", field: "title" }))).toContain("“Judul”");
    expect(enText(err(400, { code: "validation", message: "x" }))).toBe(en["errors.validation"]);
  });

  test("every plain code has its own text, never the English message", () => {
    for (const code of ["unauthenticated", "bad_credentials", "forbidden", "not_found", "too_large", "refused_type", "missing_blob", "already_set_up", "internal"] as const) {
      const text = idText(err(400, { code, message: "ENGLISH MESSAGE" }));
      expect(text).toBe(id[`errors.${code}`]);
    }
  });

  test("network failures and unknown throws", () => {
    expect(enText(new NetworkError(new TypeError("Failed to fetch")))).toBe(en["errors.network"]);
    expect(enText(new Error("boom"))).toBe(en["errors.unexpected"]);
  });
});

describe("shell command errors", () => {
  test("a {code, message} from the shell is translated by code", () => {
    const e = shellError({ code: "unreadable_folder", message: "permission denied (os error 13)" });
    expect(e).toBeInstanceOf(ShellError);
    expect(enText(e)).toBe(en["errors.shell.unreadable_folder"]);
    expect(idText(e)).toBe(id["errors.shell.unreadable_folder"]);
  });

  test("anything else the shell throws is an internal error, never shown raw", () => {
    expect(shellError("command import_folder not found").code).toBe("internal");
    expect(shellError({ code: "made_up", message: "x" }).code).toBe("internal");
    expect(enText(shellError(new Error("boom")))).toBe(en["errors.shell.internal"]);
  });
});
