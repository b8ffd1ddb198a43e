import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMapping, invertMapping, roundTo, type PointReading } from '../../src/devicemodel/mapping.ts';
import { parseExpression, variableIds } from '../../src/devicemodel/expression.ts';
import type { Mapping } from '../../src/devicemodel/compiled.ts';
import type { Quality } from '../../src/devicemodel/types.ts';

function mapping(attribute: string, kind: 'value' | 'calculate', expression: string, precision?: number): Mapping {
  const r = parseExpression(expression);
  assert.ok(r.ok);
  return { attribute, kind, expr: r.expr, pointIds: variableIds(r.expr), precision, deviation: 0, deadband: 0, silentWin: 0 };
}

const points =
  (m: Record<string, PointReading['value'] | [PointReading['value'], Quality]>) =>
  (id: string): PointReading | undefined => {
    const v = m[id];
    if (v === undefined) return undefined;
    return Array.isArray(v) ? { value: v[0], quality: v[1] } : { value: v, quality: 'good' };
  };

test('roundTo rounds like Go %.<p>f (exact decimal of the double, ties to even)', () => {
  const table: [number, number, number][] = [
    [315.88257, 2, 315.88],
    [1.005, 2, 1], // 1.005 is 1.00499999999999989... as a double, Go prints 1.00
    // exact ties round to even, as Go's strconv does (fmt.Sprintf("%.0f", 2.5) == "2")
    [2.5, 0, 2],
    [3.5, 0, 4],
    [-2.5, 0, -2],
    [-3.5, 0, -4],
    [0.125, 2, 0.12],
    [0.375, 2, 0.38],
    [2.675, 2, 2.67], // 2.67499999… as a double: not a tie
    [0.5, 0, 0],
    [1.5, 0, 2],
    [0.1, 20, 0.1],
    [-0.001, 2, 0],
    [123456.789, 1, 123456.8],
    [1e21, 2, 1e21],
  ];
  for (const [v, p, expected] of table) assert.ok(Object.is(roundTo(v, p), expected), `${v} ${p} -> ${roundTo(v, p)}`);
  assert.ok(Number.isNaN(roundTo(NaN, 2)));
  assert.equal(roundTo(1.23456, -1), 1.23456);
});

test('value mappings pass the point through', () => {
  assert.deepEqual(applyMapping(mapping('switch', 'value', 'x1'), points({ 1: true })), { quality: 'good', value: true });
  assert.deepEqual(applyMapping(mapping('name', 'value', 'x1'), points({ 1: 'pump-7' })), { quality: 'good', value: 'pump-7' });
  assert.deepEqual(applyMapping(mapping('t', 'value', 'x2'), points({ 2: 23.456789 })), { quality: 'good', value: 23.456789 });
  assert.deepEqual(applyMapping(mapping('t', 'value', 'x2', 2), points({ 2: 23.456789 })), { quality: 'good', value: 23.46 });
  // bigint stays exact unless precision asks for a rounded number
  assert.deepEqual(applyMapping(mapping('e', 'value', 'x3'), points({ 3: 18446744073709551615n })), {
    quality: 'good',
    value: 18446744073709551615n,
  });
  assert.deepEqual(applyMapping(mapping('e', 'value', 'x3', 1), points({ 3: 12n })), { quality: 'good', value: 12 });
  // precision does not touch strings and booleans
  assert.deepEqual(applyMapping(mapping('s', 'value', 'x1', 2), points({ 1: 'a' })), { quality: 'good', value: 'a' });
});

test('quality is the worst of the inputs', () => {
  const m = mapping('ratio', 'calculate', 'x4/(x1+x2)');
  assert.deepEqual(applyMapping(m, points({ 1: 1, 2: 3, 4: 10 })), { quality: 'good', value: 2.5 });
  assert.deepEqual(applyMapping(m, points({ 1: [1, 'uncertain'], 2: 3, 4: 10 })), { quality: 'uncertain', value: 2.5 });
  assert.deepEqual(applyMapping(m, points({ 1: [1, 'uncertain'], 2: [3, 'bad'], 4: 10 })), {
    quality: 'bad',
    reason: 'ratio: point x2 is bad',
  });
  assert.deepEqual(applyMapping(m, points({ 1: 1, 2: 3 })), { quality: 'bad', reason: 'ratio: point x4 has no value' });
  assert.deepEqual(applyMapping(mapping('t', 'value', 'x1'), points({ 1: [20, 'uncertain'] })), { quality: 'uncertain', value: 20 });
  assert.deepEqual(applyMapping(mapping('t', 'value', 'x1'), points({})), { quality: 'bad', reason: 't: point x1 has no value' });
});

test('calculate converts inputs to numbers, evaluates and rounds', () => {
  assert.deepEqual(applyMapping(mapping('t', 'calculate', 'x2*0.1', 1), points({ 2: 235 })), { quality: 'good', value: 23.5 });
  assert.deepEqual(applyMapping(mapping('f', 'calculate', 'x1*1.8+32'), points({ 1: 100 })), { quality: 'good', value: 212 });
  assert.deepEqual(applyMapping(mapping('n', 'calculate', 'x1+x2'), points({ 1: true, 2: false })), { quality: 'good', value: 1 });
  assert.deepEqual(applyMapping(mapping('n', 'calculate', 'x1/1000'), points({ 1: 5000000000n })), { quality: 'good', value: 5000000 });
  assert.deepEqual(applyMapping(mapping('p', 'calculate', 'x1/3', 3), points({ 1: 1 })), { quality: 'good', value: 0.333 });
  assert.deepEqual(applyMapping(mapping('c', 'calculate', '42'), points({})), { quality: 'bad', reason: 'c: the mapping reads no point' });
});

test('non-finite results and text inputs are bad with a reason', () => {
  assert.deepEqual(applyMapping(mapping('r', 'calculate', 'x1/x2'), points({ 1: 1, 2: 0 })), {
    quality: 'bad',
    reason: 'r: x1/x2 gave Infinity',
  });
  assert.deepEqual(applyMapping(mapping('r', 'calculate', 'x1*2'), points({ 1: 'abc' })), {
    quality: 'bad',
    reason: 'r: point x1 is text, not a number',
  });
  assert.deepEqual(applyMapping(mapping('t', 'value', 'x1'), points({ 1: NaN })), { quality: 'bad', reason: 't: point x1 is NaN' });
});

test('invertMapping: value passes through, calculate solves for the first variable', () => {
  assert.deepEqual(invertMapping(mapping('switch', 'value', 'x1'), true), { ok: true, pointId: '1', value: true });
  assert.deepEqual(invertMapping(mapping('big', 'value', 'x5'), 2n ** 64n - 1n), { ok: true, pointId: '5', value: 2n ** 64n - 1n });
  assert.deepEqual(invertMapping(mapping('t', 'calculate', 'x2*0.1'), 23.5), { ok: true, pointId: '2', value: 235 });
  assert.deepEqual(invertMapping(mapping('c', 'calculate', '(x1-32)/1.8'), 20), { ok: true, pointId: '1', value: 68 });
  assert.deepEqual(invertMapping(mapping('c', 'calculate', 'x1*2'), 10n), { ok: true, pointId: '1', value: 5 });
});

test('invertMapping errors name the attribute and the expression', () => {
  assert.deepEqual(invertMapping(mapping('ratio', 'calculate', 'x4/(x1+x2)'), 2), {
    ok: false,
    error: 'ratio: cannot write through x4/(x1+x2): the expression uses 3 variables (x4, x1, x2); only one can be solved for',
  });
  assert.deepEqual(invertMapping(mapping('sq', 'calculate', 'x1*x1'), 4), {
    ok: false,
    error: 'sq: cannot write through x1*x1: x1 is multiplied by x1 (not linear)',
  });
  assert.deepEqual(invertMapping(mapping('t', 'calculate', 'x1*0.1'), 'hot'), {
    ok: false,
    error: 't: a calculated attribute takes a number, got string "hot"',
  });
  assert.deepEqual(invertMapping(mapping('t', 'calculate', 'x1*0.1'), true), {
    ok: false,
    error: 't: a calculated attribute takes a number, got boolean true',
  });
});

test('apply then invert round-trips through linear mappings', () => {
  for (const [expr, raw] of [['x1*0.1', 235], ['(x1-32)/1.8', 212], ['10*x1/4+3', 8], ['-x1', 17], ['x1/100+0.5', 1234]] as const) {
    const m = mapping('a', 'calculate', expr);
    const applied = applyMapping(m, points({ 1: raw }));
    assert.equal(applied.quality, 'good');
    assert.ok('value' in applied && typeof applied.value === 'number');
    assert.deepEqual(invertMapping(m, applied.value), { ok: true, pointId: '1', value: raw }, expr);
  }
});
