/** Longest excerpt of a value an error message quotes. @category Math */
export const MAX_QUOTE_CHARS = 100;

/**
 * A value as an error message shows it: numbers as JavaScript prints them, strings and JSON quoted and cut to
 * MAX_QUOTE_CHARS (with their full length), binary data as its type and byte count. A message never echoes a
 * large value (a model passed as bytes is 10⁷–10⁹ bytes).
 * @category Math
 */
export function quote(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} (${value.byteLength} bytes)`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer (${value.byteLength} bytes)`;
  if (typeof value === 'string') return cut(JSON.stringify(value), value.length, 'characters');
  if (typeof value === 'function' || typeof value === 'symbol') return `a ${typeof value}`;
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_k, v: unknown) => (ArrayBuffer.isView(v) ? `<${v.constructor.name}, ${v.byteLength} bytes>` : v));
  } catch {
    json = undefined;
  }
  if (json === undefined) return Array.isArray(value) ? 'an array' : 'an object';
  return cut(json, Array.isArray(value) ? value.length : undefined, Array.isArray(value) ? 'items' : undefined);
}

function cut(text: string, size: number | undefined, unit: string | undefined): string {
  if (text.length <= MAX_QUOTE_CHARS) return text;
  return `${text.slice(0, MAX_QUOTE_CHARS)}… (${size !== undefined && unit ? `${size} ${unit}` : `${text.length} characters`})`;
}
