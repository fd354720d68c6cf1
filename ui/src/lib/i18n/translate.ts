// Pure lookup and interpolation, shared by the reactive `t` and the tests.

export type Catalog = Record<string, string>;
export type Params = Record<string, string | number>;
/** A translator: key (+ `{name}` parameters) to text. */
export type T = (key: string, params?: Params) => string;

/** Looks `key` up; a missing key shows as itself so it is noticed, never as an empty string. */
export function translate(catalog: Catalog, key: string, params?: Params): string {
  const text = catalog[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Translates `${prefix}.${id}` when the catalog has it, else shows the raw id (e.g. a step of another SOP). */
export function translateId(catalog: Catalog, prefix: string, id: string): string {
  const key = `${prefix}.${id}`;
  return key in catalog ? catalog[key] : id;
}
