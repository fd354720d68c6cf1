import { describe, expect, test } from "vitest";
import type { OutboxEntry } from "../src/lib/bindings/OutboxEntry";
import en from "../src/lib/i18n/en.json";
import id from "../src/lib/i18n/id.json";
import { translate } from "../src/lib/i18n/translate";
import { problemText, settled, stateLabel, unsentCount, upsertEntry } from "../src/lib/outbox";

const entry = (over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  id: 1,
  content: { title: "Banjir di Sukamaju", summary: "", body: "", category: "", tags: [], unit: "" },
  paths: [],
  submit: true,
  state: "waiting",
  percent: 0,
  item_id: null,
  files: 0,
  files_sent: 0,
  created_at: "2026-11-24T01:00:00Z",
  ...over,
});

const tId = (k: string, p?: Record<string, string | number>) => translate(id, k, p);
const tEn = (k: string, p?: Record<string, string | number>) => translate(en, k, p);

describe("outbox entries in the window", () => {
  test("an event replaces the entry's older copy and the list stays newest first", () => {
    let list = [entry({ id: 1 }), entry({ id: 3 })];
    list = upsertEntry(list, entry({ id: 2 }));
    expect(list.map((e) => e.id)).toEqual([3, 2, 1]);
    list = upsertEntry(list, entry({ id: 1, state: "sending", percent: 43 }));
    expect(list.map((e) => e.id)).toEqual([3, 2, 1]);
    expect(list.find((e) => e.id === 1)?.percent).toBe(43);
    expect(list).toHaveLength(3);
  });

  test("only entries the office does not have count as unsent", () => {
    expect(unsentCount([entry({ state: "received" }), entry({ state: "waiting" }), entry({ state: "failed" })])).toBe(2);
  });

  test("each state is said in the user's language", () => {
    expect(stateLabel(entry(), tId)).toBe("Menunggu koneksi");
    expect(stateLabel(entry({ state: "sending", percent: 43 }), tId)).toBe("Mengirim 43%");
    expect(stateLabel(entry({ state: "sending", percent: 43 }), tEn)).toBe("Sending 43%");
    expect(stateLabel(entry({ state: "received", percent: 100 }), tId)).toBe("Diterima kantor");
    expect(stateLabel(entry({ state: "received" }), tEn)).toBe("Received by the office");
    const signedOut = entry({ problem: { code: "signed_out", message: "401" } });
    expect(stateLabel(signedOut, tEn)).toBe("Waiting for you to sign in again");
  });

  test("a refusal is explained from the hub's error code, never its English message", () => {
    const refused = entry({ state: "failed", problem: { code: "refused", hub_code: "validation", message: "title too long" } });
    expect(problemText(refused, tId)).toBe(`Ditolak oleh hub kantor: ${id["errors.validation"]}`);
    const files = entry({ state: "failed", problem: { code: "files", message: "IMG_1.JPG: cannot read" } });
    expect(problemText(files, tEn)).toContain("Some files could not be read");
    // Waiting entries carry "offline" as their reason; the state label says it already.
    expect(problemText(entry({ problem: { code: "offline", message: "refused" } }), tEn)).toBeNull();
  });

  test("the new-item form stops waiting once an entry is received or failed", () => {
    expect(settled(entry({ state: "received" }))).toBe(true);
    expect(settled(entry({ state: "failed" }))).toBe(true);
    expect(settled(entry({ state: "sending" }))).toBe(false);
    expect(settled(entry({ state: "waiting" }))).toBe(false);
  });
});
