import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createGenerator, generatorSpecSchema, parseReplay } from '../../simulators/common/generators.ts';
import { defaultGeneratorSpec } from '../../simulators/common/defaults.ts';
import { deriveSeed } from '../../simulators/common/prng.ts';

const dir = mkdtempSync(join(tmpdir(), 'fg-gen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('generators', () => {
  it('constant returns its value at any time', () => {
    const g = createGenerator({ kind: 'constant', value: 'hello' }, 1);
    assert.equal(g(0), 'hello');
    assert.equal(g(123_456), 'hello');
  });

  it('ramp with step climbs per interval and starts over after `to`', () => {
    const g = createGenerator({ kind: 'ramp', from: 10, to: 12, step: 1, every: '1s' }, 1);
    assert.deepEqual([0, 999, 1000, 2000, 3000, 4500].map(g), [10, 10, 11, 12, 10, 11]);
  });

  it('descending ramp steps downwards', () => {
    const g = createGenerator({ kind: 'ramp', from: 5, to: 1, step: 2, every: 100 }, 1);
    assert.deepEqual([0, 100, 200, 300].map(g), [5, 3, 1, 5]);
  });

  it('ramp with period is linear over the period', () => {
    const g = createGenerator({ kind: 'ramp', from: 0, to: 100, period: '10s' }, 1);
    assert.equal(g(0), 0);
    assert.equal(g(2500), 25);
    assert.equal(g(12_500), 25);
  });

  it('ramp needs exactly one of step and period', () => {
    assert.equal(generatorSpecSchema.safeParse({ kind: 'ramp', from: 0, to: 1 }).success, false);
    assert.equal(generatorSpecSchema.safeParse({ kind: 'ramp', from: 0, to: 1, step: 1, period: 5 }).success, false);
  });

  it('sine follows offset + amplitude * sin(2πt/period + phase)', () => {
    const g = createGenerator({ kind: 'sine', amplitude: 10, offset: 20, period: '4s' }, 1);
    assert.equal(g(0), 20);
    assert.ok(Math.abs((g(1000) as number) - 30) < 1e-9);
    assert.ok(Math.abs((g(3000) as number) - 10) < 1e-9);
    const shifted = createGenerator({ kind: 'sine', amplitude: 1, period: 1000, phase: 90 }, 1);
    assert.ok(Math.abs((shifted(0) as number) - 1) < 1e-9);
  });

  it('counter increments per interval and wraps', () => {
    const g = createGenerator({ kind: 'counter', start: 0, increment: 3, every: 10, wrap: 8 }, 1);
    assert.deepEqual([0, 10, 20, 30, 40].map(g), [0, 3, 6, 1, 4]);
    const down = createGenerator({ kind: 'counter', start: 0, increment: -1, every: 10, wrap: 4 }, 1);
    assert.deepEqual([0, 10, 20].map(down), [0, 3, 2]);
  });

  it('random walk is deterministic per seed, stays in bounds, and is a function of time', () => {
    const spec = { kind: 'randomWalk', start: 50, step: 5, min: 40, max: 60, every: 100 } as const;
    const a = createGenerator(spec, 7);
    const b = createGenerator(spec, 7);
    const c = createGenerator(spec, 8);
    const times = Array.from({ length: 200 }, (_, i) => i * 100);
    const va = times.map(a);
    assert.deepEqual(times.map(b), va);
    assert.notDeepEqual(times.map(c), va);
    assert.equal(va[0], 50);
    for (const v of va) assert.ok((v as number) >= 40 && (v as number) <= 60, `${v} out of bounds`);
    assert.ok(new Set(va).size > 20, 'the walk moves');
    // Asking about an earlier time gives the same answer as before.
    assert.equal(a(5000), va[50]);
    const ints = createGenerator({ ...spec, integer: true }, 7);
    for (const t of times) assert.ok(Number.isInteger(ints(t)));
  });

  it('deriveSeed separates devices and attributes', () => {
    assert.equal(deriveSeed(1, 'dev', 'temp'), deriveSeed(1, 'dev', 'temp'));
    assert.notEqual(deriveSeed(1, 'dev', 'temp'), deriveSeed(1, 'dev', 'hum'));
    assert.notEqual(deriveSeed(1, 'ab', 'c'), deriveSeed(1, 'a', 'bc'));
    assert.notEqual(deriveSeed(1, 'dev'), deriveSeed(2, 'dev'));
  });

  it('toggle and cycle', () => {
    const t = createGenerator({ kind: 'toggle', every: 100 }, 1);
    assert.deepEqual([0, 100, 200, 250].map(t), [false, true, false, false]);
    const c = createGenerator({ kind: 'cycle', values: ['a', 'b', 3], every: 10 }, 1);
    assert.deepEqual([0, 10, 20, 30].map(c), ['a', 'b', 3, 'a']);
  });

  it('replay with a t_ms header loops over the rows', () => {
    const file = join(dir, 'timed.csv');
    writeFileSync(file, 't_ms,value\n0,1.5\n100,2.5\n300,on\n');
    const g = createGenerator({ kind: 'replay', file }, 1);
    // Rows at 0, 100, 300; the last lasts 200 ms like the gap before it, so the loop is 500 ms.
    assert.deepEqual([0, 99, 100, 299, 300, 499, 500, 650].map(g), [1.5, 1.5, 2.5, 2.5, 'on', 'on', 1.5, 2.5]);
  });

  it('replay of one value per line, relative to baseDir, and without loop', () => {
    writeFileSync(join(dir, 'plain.csv'), '1\n2\ntrue\n\n');
    const g = createGenerator({ kind: 'replay', file: 'plain.csv', every: '1s' }, 1, { baseDir: dir });
    assert.deepEqual([0, 1000, 2000, 3000].map(g), [1, 2, true, 1]);
    const hold = createGenerator({ kind: 'replay', file: 'plain.csv', every: 1000, loop: false }, 1, { baseDir: dir });
    assert.equal(hold(10_000), true);
  });

  it('replay rejects bad rows', () => {
    assert.throws(() => parseReplay('t_ms,value\nx,1\n', 1000), /row 2/);
    assert.throws(() => parseReplay('\n\n', 1000), /no values/);
  });

  it('defaults: bool toggles, numbers walk inside the range, strings are constant, enums cycle', () => {
    assert.equal(defaultGeneratorSpec({ type: 'bool' }, 'x')?.kind, 'toggle');
    assert.deepEqual(defaultGeneratorSpec({ type: 'string' }, 'name'), { kind: 'constant', value: 'sim-name' });
    assert.deepEqual(defaultGeneratorSpec({ type: 'enum', enumValues: ['a', 'b'] }, 'e'), { kind: 'cycle', values: ['a', 'b'], every: 10_000 });
    const f = defaultGeneratorSpec({ type: 'float32', min: -10, max: 10 }, 't');
    assert.ok(f?.kind === 'randomWalk' && f.min === -10 && f.max === 10 && !f.integer);
    const u = defaultGeneratorSpec({ type: 'uint16', max: 50 }, 'u');
    assert.ok(u?.kind === 'randomWalk' && u.min === 0 && u.max === 50 && u.integer);
    assert.equal(defaultGeneratorSpec({ type: 'object' }, 'o'), undefined);
  });
});
