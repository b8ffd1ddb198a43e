/**
 * A JSON reader for downlink payloads that keeps every digit of big integers. `JSON.parse` turns
 * `18446744073709551615` into `18446744073709552000`, and Node 20 has no reviver `source` to
 * recover it; a desired value for an int64/uint64 point must arrive exact. Pure, never throws.
 */

/** What {@link parseJsonExact} found. */
export type JsonParse = { readonly kind: 'ok'; readonly value: unknown } | { readonly kind: 'error'; readonly error: string };

/** Deepest nesting accepted; deeper input is refused instead of overflowing the stack. */
export const MAX_DEPTH = 64;

/**
 * Parses RFC 8259 JSON text like `JSON.parse`, except that an integer literal (no fraction, no
 * exponent) outside ±(2^53−1) becomes a `bigint`. Errors name the byte offset.
 */
export function parseJsonExact(text: string): JsonParse {
  const p = new Reader(text);
  try {
    p.ws();
    const value = p.value(0);
    p.ws();
    if (p.i < text.length) return { kind: 'error', error: `unexpected ${JSON.stringify(text[p.i])} at offset ${p.i}` };
    return { kind: 'ok', value };
  } catch (e) {
    return { kind: 'error', error: e instanceof Error ? e.message : String(e) };
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

class Reader {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.i++;
    }
  }

  fail(what: string): never {
    throw new Error(this.i >= this.s.length ? `unexpected end of JSON (${what})` : `${what} at offset ${this.i}`);
  }

  value(depth: number): unknown {
    const c = this.s[this.i];
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail('expected a JSON value');
  }

  object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.ws();
      const v = this.value(depth);
      // `__proto__` as data, never as the prototype (JSON.parse does the same).
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.fail("expected ',' or '}'");
      }
    }
  }

  array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  string(): string {
    STRING.lastIndex = this.i;
    const m = STRING.exec(this.s);
    if (!m) this.fail('bad string');
    this.i += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail('bad number');
    this.i += m[0].length;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  }
}
