// A line diff in the browser, for one case only: the user's unsaved text against the version that
// beat it (a version conflict). Revisions already stored are diffed by the hub (`/diff`).
import type { DiffLine } from "./bindings/DiffLine";
import type { FieldDiff } from "./bindings/FieldDiff";
import type { ItemContent } from "./bindings/ItemContent";

/** Longest-common-subsequence line diff from `a` to `b`. */
export function lineDiff(a: string, b: string): DiffLine[] {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: length of the LCS of x[i..] and y[j..].
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: "equal", text: x[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: "delete", text: x[i++] });
    } else {
      out.push({ op: "insert", text: y[j++] });
    }
  }
  while (i < n) out.push({ op: "delete", text: x[i++] });
  while (j < m) out.push({ op: "insert", text: y[j++] });
  return out;
}

/** Field-by-field diff of two contents, in the hub's `FieldDiff` shape. */
export function contentDiff(from: ItemContent, to: ItemContent): FieldDiff[] {
  const fields: [string, string, string][] = [
    ["title", from.title, to.title],
    ["summary", from.summary, to.summary],
    ["body", from.body, to.body],
    ["category", from.category, to.category],
    ["tags", from.tags.join(", "), to.tags.join(", ")],
    ["unit", from.unit, to.unit],
  ];
  return fields.map(([field, a, b]) => ({ field, changed: a !== b, lines: lineDiff(a, b) }));
}
