/**
 * Canonical JSON: object keys sorted, no whitespace, only plain JSON values. The audit chain hashes these bytes,
 * so the same value always yields the same hash, in this process or in an external verifier.
 * Not a general serializer: it throws (a bug in the caller) on undefined inside arrays, non-finite numbers,
 * bigints, functions and class instances such as Date, instead of silently changing them as JSON.stringify does.
 */

export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path} is ${value}, which JSON cannot hold`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => {
      if (item === undefined) throw new CanonicalJsonError(`${path}[${index}] is undefined`);
      return encode(item, `${path}[${index}]`);
    }).join(',')}]`;
  }
  if (typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new CanonicalJsonError(`${path} is a ${prototype?.constructor?.name ?? 'non-plain object'}, not a plain object`);
    }
    // Keys sort by UTF-16 code units (the default sort), as RFC 8785 does; undefined members are left out.
    const members = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${encode((value as Record<string, unknown>)[key], `${path}.${key}`)}`);
    return `{${members.join(',')}}`;
  }
  throw new CanonicalJsonError(`${path} is a ${typeof value}, which JSON cannot hold`);
}
