// Turns anything a hub call can throw into one sentence for the error banner, in the current
// language. Switches on `ApiError.code`; never reads `message` (that is English, for logs).
import { HubError, NetworkError } from "./api";
import type { ErrorCode } from "./bindings/ErrorCode";
import { translateId, type Catalog, type T } from "./i18n/translate";
import { problemReason } from "./imports";
import { AttachProblem, ShellError } from "./shell";

/** Every code, so a new one in the bindings fails the type check until it has a text. */
export const ERROR_CODES: Record<ErrorCode, true> = {
  unauthenticated: true,
  bad_credentials: true,
  forbidden: true,
  not_found: true,
  invalid_transition: true,
  version_conflict: true,
  locked: true,
  lock_expired: true,
  validation: true,
  too_large: true,
  refused_type: true,
  missing_blob: true,
  already_set_up: true,
  too_many_attempts: true,
  offset_mismatch: true,
  checksum_mismatch: true,
  upload_busy: true,
  internal: true,
};

export function describeError(e: unknown, t: T, catalog: Catalog): string {
  if (e instanceof NetworkError) return t("errors.network");
  if (e instanceof ShellError) return t(`errors.shell.${e.code}`);
  if (e instanceof AttachProblem) return problemReason(e.problem, t);
  if (!(e instanceof HubError)) return t("errors.unexpected");
  const b = e.body;
  switch (b.code) {
    case "invalid_transition": {
      const allowed = (b.allowed_actions ?? []).map((a) => translateId(catalog, "action", a));
      return allowed.length
        ? t("errors.invalid_transition", { actions: allowed.join(", ") })
        : t("errors.invalid_transition_none");
    }
    case "version_conflict":
      return t("errors.version_conflict", { version: b.current_version ?? "?" });
    case "locked":
      return t("errors.locked", { holder: b.holder ?? "?" });
    case "lock_expired":
      return b.holder ? t("errors.lock_expired_holder", { holder: b.holder }) : t("errors.lock_expired");
    case "too_many_attempts":
      return t("errors.too_many_attempts", {
        minutes: Math.max(1, Math.ceil((b.retry_after_secs ?? 60) / 60)),
      });
    case "validation":
      return b.field
        ? t("errors.validation_field", { field: translateId(catalog, "field", b.field) })
        : t("errors.validation");
    default:
      return b.code in ERROR_CODES ? t(`errors.${b.code}`) : t("errors.unexpected");
  }
}
