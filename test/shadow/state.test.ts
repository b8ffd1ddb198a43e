import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isShadowError } from '../../src/shadow/errors.ts';
import {
  applyDesire,
  clearDesired,
  delta,
  emptyShadow,
  mergeReport,
  shadowAnswer,
  type PropertyUpdate,
  type Shadow,
} from '../../src/shadow/state.ts';

const good = (value: PropertyUpdate['value'], ts = 1000): PropertyUpdate => ({ value, ts, quality: 'good' });

test('mergeReport: table of report sequences', () => {
  const cases: {
    name: string;
    reports: Record<string, PropertyUpdate>[];
    report: Record<string, unknown>;
    version: number;
    changed: string[][];
  }[] = [
    { name: 'first report', reports: [{ t: good(21.5) }], report: { t: 21.5 }, version: 1, changed: [['t']] },
    { name: 'same value again: no new version', reports: [{ t: good(1) }, { t: good(1, 2000) }], report: { t: 1 }, version: 1, changed: [['t'], []] },
    { name: 'value changes', reports: [{ t: good(1) }, { t: good(2) }], report: { t: 2 }, version: 2, changed: [['t'], ['t']] },
    { name: 'keys accumulate', reports: [{ a: good(1) }, { b: good(true) }], report: { a: 1, b: true }, version: 2, changed: [['a'], ['b']] },
    {
      name: 'quality change alone is a new version',
      reports: [{ a: good(1) }, { a: { value: 1, ts: 1000, quality: 'uncertain' } }],
      report: { a: 1 },
      version: 2,
      changed: [['a'], ['a']],
    },
    {
      name: 'failed read keeps the value',
      reports: [{ a: good(7) }, { a: { ts: 2000, quality: 'bad' } }],
      report: { a: 7 },
      version: 2,
      changed: [['a'], ['a']],
    },
    {
      name: 'objects merge recursively',
      reports: [{ o: good({ x: 1, y: 2 }) }, { o: good({ y: 3 }) }],
      report: { o: { x: 1, y: 3 } },
      version: 2,
      changed: [['o'], ['o']],
    },
    { name: 'bigint kept', reports: [{ n: good(9007199254740993n) }], report: { n: 9007199254740993n }, version: 1, changed: [['n']] },
  ];
  for (const c of cases) {
    let s = emptyShadow('dev');
    c.reports.forEach((r, i) => {
      const out = mergeReport(s, r);
      assert.deepEqual(out.changed, c.changed[i], `${c.name}: changed of report ${i}`);
      s = out.shadow;
    });
    assert.deepEqual(s.report, c.report, c.name);
    assert.equal(s.reportVersion, c.version, c.name);
  }
});

test('mergeReport: meta keeps ts and quality; a newer ts alone touches but keeps the version', () => {
  const s1 = mergeReport(emptyShadow('d'), { a: good(1, 10) }).shadow;
  const out = mergeReport(s1, { a: good(1, 20) });
  assert.equal(out.touched, true);
  assert.equal(out.shadow.reportVersion, 1);
  assert.deepEqual(out.shadow.meta.report, { a: { ts: 20, quality: 'good' } });
  assert.deepEqual(s1.meta.report, { a: { ts: 10, quality: 'good' } }, 'input shadow not mutated');
  const same = mergeReport(out.shadow, { a: good(1, 20) });
  assert.equal(same.touched, false);
  assert.equal(same.shadow, out.shadow);
});

test('mergeReport: too deep merge throws and changes nothing', () => {
  const s = mergeReport(emptyShadow('d'), { a: good({ b: { c: { d: { e: 1 } } } }) }).shadow;
  assert.throws(() => mergeReport(s, { a: good({ b: { c: { d: { e: 2 } } } }) }), (e) => isShadowError(e) && e.code === 'TooDeep');
  assert.deepEqual(s.report, { a: { b: { c: { d: { e: 1 } } } } });
});

test('applyDesire: merge patch, versions and conflicts', () => {
  let s: Shadow = emptyShadow('pump');
  s = applyDesire(s, { speed: 10, mode: 'auto' }, { ts: 5 }).shadow;
  assert.deepEqual(s.desire, { speed: 10, mode: 'auto' });
  assert.equal(s.desireVersion, 1);
  assert.deepEqual(s.meta.desire, { speed: { ts: 5 }, mode: { ts: 5 } });

  const patched = applyDesire(s, { mode: null, speed: 12 }, { version: 1, ts: 6 });
  assert.equal(patched.changed, true);
  assert.deepEqual(patched.shadow.desire, { speed: 12 });
  assert.deepEqual(patched.shadow.meta.desire, { speed: { ts: 6 } });
  assert.equal(patched.shadow.desireVersion, 2);

  const noop = applyDesire(patched.shadow, { speed: 12 }, { version: 2 });
  assert.equal(noop.changed, false);
  assert.equal(noop.shadow.desireVersion, 2);

  assert.throws(
    () => applyDesire(patched.shadow, { speed: 1 }, { version: 1 }),
    (e) => isShadowError(e) && e.code === 'VersionConflict' && e.detail?.current === 2 && e.detail.expected === 1,
  );
  for (const bad of [null, 3, 'x', [1]]) {
    assert.throws(() => applyDesire(s, bad), (e) => isShadowError(e) && e.code === 'BadPatch', String(bad));
  }
});

test('delta: desire against report (Baetyl Desire.Diff)', () => {
  let s = mergeReport(emptyShadow('d'), { a: good(1), b: good(2), o: good({ x: 1, y: 1 }) }).shadow;
  assert.deepEqual(delta(s), {});
  s = applyDesire(s, { a: 1, b: 3, c: 4, o: { y: 2 } }).shadow;
  assert.deepEqual(delta(s), { b: 3, c: 4, o: { y: 2 } });
  s = mergeReport(s, { b: good(3), o: good({ y: 2 }) }).shadow;
  assert.deepEqual(delta(s), { c: 4 });
});

test('clearDesired: by names, and compare-and-clear by written values', () => {
  let s = applyDesire(emptyShadow('d'), { a: 1, b: 2, c: 3 }).shadow;
  const byName = clearDesired(s, ['a', 'zz']);
  assert.equal(byName.changed, true);
  assert.deepEqual(byName.shadow.desire, { b: 2, c: 3 });
  assert.deepEqual(Object.keys(byName.shadow.meta.desire).sort(), ['b', 'c']);
  assert.equal(byName.shadow.desireVersion, 2);
  s = byName.shadow;
  // The write of b=2 succeeded, but c was re-desired as 30 while c=3 was being written: keep c.
  s = applyDesire(s, { c: 30 }).shadow;
  const cas = clearDesired(s, { b: 2, c: 3 });
  assert.deepEqual(cas.shadow.desire, { c: 30 });
  assert.equal(clearDesired(cas.shadow, ['nothing']).changed, false);
});

test('shadowAnswer: the getResponse content of baetyl-core', () => {
  let s = mergeReport(emptyShadow('dev-1'), { temperature: good(21.5) }).shadow;
  s = applyDesire(s, { setpoint: 22 }).shadow;
  assert.deepEqual(shadowAnswer(s), { name: 'dev-1', report: { temperature: 21.5 }, desire: { setpoint: 22 } });
  assert.equal(
    JSON.stringify({ kind: 'response', content: shadowAnswer(s) }),
    '{"kind":"response","content":{"name":"dev-1","report":{"temperature":21.5},"desire":{"setpoint":22}}}',
  );
  assert.deepEqual(shadowAnswer(emptyShadow('x')), { name: 'x', report: {}, desire: {} });
});

test('keys named __proto__ are plain data', () => {
  const s = mergeReport(emptyShadow('d'), JSON.parse('{"__proto__": {"value": 1, "ts": 1, "quality": "good"}}')).shadow;
  assert.equal(Object.getPrototypeOf(s.report), Object.prototype);
  assert.equal(JSON.stringify(s.report), '{"__proto__":1}');
  const d = applyDesire(emptyShadow('d'), JSON.parse('{"__proto__": {"polluted": true}}')).shadow;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(JSON.stringify(d.desire), '{"__proto__":{"polluted":true}}');
});
