import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringifyJson } from '../../src/devicemodel/json.ts';

test('bigint becomes an exact number literal', () => {
  assert.equal(stringifyJson(18446744073709551615n), '18446744073709551615');
  assert.equal(stringifyJson(-9223372036854775808n), '-9223372036854775808');
  assert.equal(
    stringifyJson({ properties: { energy: 18446744073709551615n, t: 21.5 } }),
    '{"properties":{"energy":18446744073709551615,"t":21.5}}',
  );
  assert.equal(stringifyJson([1n, 2, 3n]), '[1,2,3]');
});

test('non-finite numbers become null', () => {
  assert.equal(stringifyJson({ a: NaN, b: Infinity, c: -Infinity }), '{"a":null,"b":null,"c":null}');
  assert.equal(stringifyJson(NaN), 'null');
});

test('matches JSON.stringify for everything JSON.stringify handles', () => {
  const samples: unknown[] = [
    null,
    true,
    0,
    -0,
    1e21,
    5e-324,
    'quote " backslash \\ newline \n tab \t unicode 温度 \u0001 \u2028',
    [],
    {},
    [1, 'a', null, undefined, () => 1, [{}]],
    { a: undefined, b: () => 1, c: Symbol('s'), d: 1, 'k"ey': 2 },
    { nested: { deep: [{ x: [1, { y: 'z' }] }] } },
    { date: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) },
    { toJSON: () => ({ replaced: true }) },
    [new Number(3), new String('s'), new Boolean(false)],
    new Map([[1, 2]]),
  ];
  for (const s of samples) assert.equal(stringifyJson(s), JSON.stringify(s), String(s));
  // the output parses back with JSON.parse
  assert.deepEqual(JSON.parse(stringifyJson({ a: [1, 'b', { c: null }] })), { a: [1, 'b', { c: null }] });
});

test('top-level undefined is null; shared objects are fine, cycles throw', () => {
  assert.equal(stringifyJson(undefined), 'null');
  const shared = { v: 1 };
  assert.equal(stringifyJson([shared, shared]), '[{"v":1},{"v":1}]');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => stringifyJson(cyclic), TypeError);
});
