// The outbox's entries as the window keeps them: pure functions over the shell's list and its
// change events (tested in ui/test/outbox.test.ts). The reactive copy is kept beside this file.
import type { OutboxEntry } from "./bindings/OutboxEntry";
import type { T } from "./i18n/translate";

/** `entries` with `e` put in (replacing its older copy), newest first. */
export function upsertEntry(entries: OutboxEntry[], e: OutboxEntry): OutboxEntry[] {
  const rest = entries.filter((x) => x.id !== e.id);
  return [...rest, e].sort((a, b) => b.id - a.id);
}

/** Entries the office does not have yet. */
export function unsentCount(entries: OutboxEntry[]): number {
  return entries.filter((e) => e.state !== "received").length;
}

/** The entry's state in words: "waiting for connection", "sending 43%", "received by the office". */
export function stateLabel(e: OutboxEntry, t: T): string {
  switch (e.state) {
    case "waiting":
      return e.problem?.code === "signed_out" ? t("outbox.state.waiting_sign_in") : t("outbox.state.waiting");
    case "sending":
      return t("outbox.state.sending", { percent: e.percent });
    case "received":
      return t("outbox.state.received");
    case "failed":
      return t("outbox.state.failed");
  }
}

/** Why it failed, in words (the hub's refusal by its code). */
export function problemText(e: OutboxEntry, t: T): string | null {
  const p = e.problem;
  if (!p || e.state !== "failed") return null;
  switch (p.code) {
    case "files":
      return t("outbox.problem.files");
    case "refused":
      return p.hub_code ? t("outbox.problem.refused", { reason: t(`errors.${p.hub_code}`) }) : t("outbox.problem.refused_other");
    default:
      return null;
  }
}

/** Whether an entry settled (the window stops waiting for it). */
export function settled(e: OutboxEntry): boolean {
  return e.state === "received" || e.state === "failed";
}
