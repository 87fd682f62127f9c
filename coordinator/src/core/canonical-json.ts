/**
 * JSON text with object keys sorted, so the same value always gives the same text:
 * "same settings" and "same registration" compare stored text, and a client that
 * repeats a request with its keys in another order still means the same thing.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
