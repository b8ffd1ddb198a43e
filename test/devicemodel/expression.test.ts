import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluate,
  formatExpression,
  parseExpression,
  solveLinear,
  variableIds,
  type Expr,
} from '../../src/devicemodel/expression.ts';

function parse(src: string): Expr {
  const r = parseExpression(src);
  assert.ok(r.ok, `${src}: ${r.ok ? '' : r.error}`);
  return r.expr;
}

const vars = (m: Record<string, number>) => (id: string): number | undefined => m[id];

test('parses into the expected AST (precedence, associativity, unary minus)', () => {
  assert.deepEqual(parse('x2'), { kind: 'var', id: '2' });
  assert.deepEqual(parse('x1+x2*3'), {
    kind: 'bin',
    op: '+',
    left: { kind: 'var', id: '1' },
    right: { kind: 'bin', op: '*', left: { kind: 'var', id: '2' }, right: { kind: 'num', value: 3 } },
  });
  // left-associative: 8-2-1 = (8-2)-1
  assert.deepEqual(parse('8-2-1'), {
    kind: 'bin',
    op: '-',
    left: { kind: 'bin', op: '-', left: { kind: 'num', value: 8 }, right: { kind: 'num', value: 2 } },
    right: { kind: 'num', value: 1 },
  });
  assert.deepEqual(parse('-x1'), { kind: 'neg', arg: { kind: 'var', id: '1' } });
  assert.deepEqual(parse(' ( x1 ) '), { kind: 'var', id: '1' });
  assert.deepEqual(parse('+x1'), { kind: 'var', id: '1' });
});

test('numbers and variable ids', () => {
  const table: [string, number][] = [
    ['42', 42],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['2.5E-2', 0.025],
    ['1e+2', 100],
  ];
  for (const [src, value] of table) assert.deepEqual(parse(src), { kind: 'num', value }, src);
  assert.deepEqual(parse('xa'), { kind: 'var', id: 'a' });
  assert.deepEqual(parse('x12'), { kind: 'var', id: '12' });
  assert.deepEqual(parse('xTemp_1'), { kind: 'var', id: 'Temp_1' });
});

test('parse errors say what was expected at which column', () => {
  const table: [string, number, RegExp][] = [
    ['', 0, /^expected a number, a variable x<id> or '\(' at column 1, got the end$/],
    ['x1+', 3, /^expected a number, a variable x<id> or '\(' at column 4, got the end$/],
    ['x1 * * 2', 5, /at column 6, got '\*'/],
    ['(x1+2', 5, /^expected '\)' \(to close the '\(' of column 1\) at column 6, got the end$/],
    ['x1)', 2, /^expected an operator \(\+ - \* \/\) or the end of the expression at column 3, got '\)'$/],
    ['2x1', 1, /expected an operator .* at column 2, got 'x'/],
    ['x', 1, /^expected a point id after 'x' \(x<id>, e\.g\. x1\) at column 2, got the end$/],
    ['x+1', 1, /expected a point id after 'x'/],
    ['y1*2', 0, /^unknown name 'y1' at column 1: variables are written x<id>, e\.g\. x1$/],
    ['1e', 2, /^expected the digits of an exponent at column 3/],
    ['x1 % 2', 3, /at column 4, got '%'/],
    ['1e999', 0, /too large/],
    ['x1 # 2', 3, /column 4/],
  ];
  for (const [src, position, message] of table) {
    const r = parseExpression(src);
    assert.equal(r.ok, false, src);
    if (r.ok) continue;
    assert.equal(r.position, position, `${src}: ${r.error}`);
    assert.match(r.error, message, src);
  }
});

test('deep nesting is rejected instead of overflowing the stack', () => {
  const r = parseExpression('('.repeat(10000) + 'x1' + ')'.repeat(10000));
  assert.equal(r.ok, false);
  assert.ok(!r.ok && /nested deeper/.test(r.error));
  const neg = parseExpression('-'.repeat(10000) + '1');
  assert.ok(!neg.ok && /nested deeper/.test(neg.error));
  assert.equal(parseExpression('('.repeat(20) + 'x1' + ')'.repeat(20)).ok, true);
});

test('variableIds: unique, in order of first appearance', () => {
  assert.deepEqual(variableIds(parse('x4/(x1+x2)')), ['4', '1', '2']);
  assert.deepEqual(variableIds(parse('x2*x2+x1-x2')), ['2', '1']);
  assert.deepEqual(variableIds(parse('3.5')), []);
});

test('evaluate: arithmetic, missing variables, division by zero', () => {
  const table: [string, Record<string, number>, number | undefined][] = [
    ['x2*0.1', { 2: 235 }, 23.5],
    ['x4/(x1+x2)', { 1: 1, 2: 3, 4: 10 }, 2.5],
    ['1+2*3', {}, 7],
    ['(1+2)*3', {}, 9],
    ['8-2-1', {}, 5],
    ['8/4/2', {}, 1],
    ['-x1*2', { 1: 3 }, -6],
    ['--x1', { 1: 3 }, 3],
    ['2*-3', {}, -6],
    ['(x1-32)/1.8', { 1: 212 }, 100],
    ['x1+x9', { 1: 1 }, undefined],
  ];
  for (const [src, env, expected] of table) assert.equal(evaluate(parse(src), vars(env)), expected, src);
  assert.equal(evaluate(parse('x1/x2'), vars({ 1: 1, 2: 0 })), Infinity);
  assert.ok(Number.isNaN(evaluate(parse('x1/x2'), vars({ 1: 0, 2: 0 }))));
});

test('formatExpression writes text that parses back to the same AST', () => {
  for (const src of ['x1', '-x1', 'x1-(x2-x3)', '(x1+x2)*x3', 'x1/(x2/x3)', '-(x1+2)', '10*x1/4+3', '(x1-32)/1.8']) {
    const e = parse(src);
    assert.deepEqual(parse(formatExpression(e)), e, src);
  }
  assert.equal(formatExpression(parse('((x1))+(2*x2)')), 'x1+2*x2');
  assert.equal(formatExpression(parse('x1-(x2-x3)')), 'x1-(x2-x3)');
});

test('solveLinear inverts linear expressions for the first variable', () => {
  const table: [string, number, string, number][] = [
    ['x1', 5, '1', 5],
    ['x2*0.1', 23.5, '2', 235],
    ['(x1-32)/1.8', 20, '1', 68],
    ['10*x1/4+3', 28, '1', 10],
    ['-x1', 4, '1', -4],
    ['3-x7', 10, '7', -7],
    ['x1/4', 2.5, '1', 10],
    ['2*(x3+1)-x3', 9, '3', 7],
    ['x1*0.01', 0.07, '1', 7], // 0.07/0.01 = 7.000000000000001 in doubles; rounded to 15 digits
    ['xa+1', 0, 'a', -1],
  ];
  for (const [src, target, id, value] of table) {
    const r = solveLinear(parse(src), target);
    assert.deepEqual(r, { ok: true, id, value }, src);
    // round trip: evaluating at the solution gives the target back
    assert.ok(Math.abs(evaluate(parse(src), vars({ [id]: value }))! - target) < 1e-9, src);
  }
});

test('solveLinear rejects what it cannot invert, with clear messages', () => {
  const table: [string, RegExp][] = [
    ['x1+x2', /^the expression uses 2 variables \(x1, x2\); only one can be solved for$/],
    ['x1*x1', /^x1 is multiplied by x1 \(not linear\)$/],
    ['x1*(x1+1)', /not linear/],
    ['10/x1', /^x1 appears in a denominator \(not linear\)$/],
    ['x1/(x1+1)', /denominator/],
    ['x1*0', /^the coefficient of x1 is zero/],
    ['x1-x1+3', /coefficient of x1 is zero/],
    ['42', /no variable/],
    ['x1/0', /divides by zero/],
    ['x1*1e308*10', /overflow/],
  ];
  for (const [src, message] of table) {
    const r = solveLinear(parse(src), 1);
    assert.equal(r.ok, false, src);
    if (!r.ok) assert.match(r.error, message, src);
  }
  assert.equal(solveLinear(parse('x1'), NaN).ok, false);
});
