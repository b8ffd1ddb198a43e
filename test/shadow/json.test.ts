import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttributeValue } from '../../src/devicemodel/types.ts';
import { decodeJson, diffDocs, encodeJson, mergePatch, mergeValue, valueEqual, type ShadowDoc } from '../../src/shadow/json.ts';

// RFC 7386 Appendix A "Example Test Cases": [original, patch, result].
const RFC7386_APPENDIX_A: [string, string, string][] = [
  ['{"a":"b"}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'],
  ['{"a":"b"}', '{"a":null}', '{}'],
  ['{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'],
  ['{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'],
  ['{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'],
  ['{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'],
  ['{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'],
  ['["a","b"]', '["c","d"]', '["c","d"]'],
  ['{"a":"b"}', '["c"]', '["c"]'],
  ['{"a":"foo"}', 'null', 'null'],
  ['{"a":"foo"}', '"bar"', '"bar"'],
  ['{"e":null}', '{"a":1}', '{"e":null,"a":1}'],
  ['[1,2]', '{"a":"b","c":null}', '{"a":"b"}'],
  ['{}', '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'],
];

test('mergePatch: RFC 7386 Appendix A examples', () => {
  for (const [orig, patch, want] of RFC7386_APPENDIX_A) {
    const target = JSON.parse(orig) as AttributeValue;
    const before = structuredClone(target);
    const got = mergePatch(target, JSON.parse(patch) as AttributeValue);
    assert.deepEqual(got, JSON.parse(want), `${orig} + ${patch}`);
    assert.deepEqual(target, before, 'the target is not mutated');
  }
});

test('mergePatch: objects nested deeper than 5 levels are refused', () => {
  const ok = { a: { b: { c: { d: 1 } } } }; // levels 1..4 are objects
  assert.deepEqual(mergePatch({}, ok), ok);
  assert.throws(() => mergePatch({}, { a: { b: { c: { d: { e: { f: 1 } } } } } }), { code: 'TooDeep' });
});

test('mergeValue: Baetyl Report.Merge semantics', () => {
  const cases: { name: string; left: AttributeValue | undefined; right: AttributeValue; want: AttributeValue }[] = [
    { name: 'scalar overwrites', left: 1, right: 2, want: 2 },
    { name: 'new key', left: undefined, right: { x: 1 }, want: { x: 1 } },
    { name: 'maps merge', left: { x: 1, y: 2 }, right: { y: 3, z: 4 }, want: { x: 1, y: 3, z: 4 } },
    { name: 'null overwrites', left: { x: 1 }, right: null, want: null },
    { name: 'null member is kept (not a delete)', left: { x: 1 }, right: { x: null }, want: { x: null } },
    { name: 'array overwrites map', left: { x: 1 }, right: [1, 2], want: [1, 2] },
    { name: 'map overwrites scalar', left: 5, right: { a: 1 }, want: { a: 1 } },
    { name: 'nested', left: { a: { b: 1, c: 2 } }, right: { a: { c: 3 } }, want: { a: { b: 1, c: 3 } } },
  ];
  for (const c of cases) assert.deepEqual(mergeValue(c.left, c.right, 2), c.want, c.name);
  const same = { a: { b: 1 } };
  assert.equal(mergeValue(same, { a: { b: 1 } }, 2), same, 'unchanged merge returns the same object');
});

test('mergeValue: a merge of two maps at level 5 fails like baetyl-go (maxJSONLevel = 5)', () => {
  // left is attribute a's value (level 2); b is at 3, c at 4, d at 5: merging the two d maps fails.
  const left = { b: { c: { d: { e: 1 } } } };
  assert.throws(() => mergeValue(left, { b: { c: { d: { e: 2 } } } }, 2), { code: 'TooDeep' });
  // One level less is fine.
  assert.deepEqual(mergeValue({ b: { c: { d: 1 } } }, { b: { c: { d: 2 } } }, 2), { b: { c: { d: 2 } } });
});

test('diffDocs: desire against report, nulls removed', () => {
  const cases: { name: string; report: ShadowDoc; desire: ShadowDoc; want: ShadowDoc }[] = [
    { name: 'equal', report: { a: 1 }, desire: { a: 1 }, want: {} },
    { name: 'differs', report: { a: 1 }, desire: { a: 2 }, want: { a: 2 } },
    { name: 'missing in report', report: {}, desire: { a: true }, want: { a: true } },
    { name: 'only in report: no null', report: { a: 1, b: 2 }, desire: { a: 1 }, want: {} },
    { name: 'nested member differs', report: { o: { x: 1, y: 2 } }, desire: { o: { x: 1, y: 3 } }, want: { o: { y: 3 } } },
    { name: 'nested removals only: dropped', report: { o: { x: 1, y: 2 } }, desire: { o: { x: 1 } }, want: {} },
    { name: 'arrays compare whole', report: { l: [1, 2] }, desire: { l: [1, 3] }, want: { l: [1, 3] } },
    { name: 'bigint equals number', report: { n: 5n }, desire: { n: 5 }, want: {} },
    { name: 'type change', report: { a: '1' }, desire: { a: 1 }, want: { a: 1 } },
  ];
  for (const c of cases) assert.deepEqual(diffDocs(c.report, c.desire), c.want, c.name);
});

test('valueEqual', () => {
  assert.equal(valueEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), true);
  assert.equal(valueEqual({ a: 1 }, { a: 1, b: 2 }), false);
  assert.equal(valueEqual(9007199254740993n, 9007199254740992), false);
  assert.equal(valueEqual(9007199254740993n, 9007199254740993n), true);
  assert.equal(valueEqual(null, 0), false);
  assert.equal(valueEqual([1], { 0: 1 }), false);
});

test('encodeJson/decodeJson keep 64-bit integers exact', () => {
  const v = { big: 18446744073709551615n, neg: -9223372036854775808n, list: [1n, 2], s: 'x', n: null };
  const text = encodeJson(v);
  assert.equal(text, '{"big":{"$bigint":"18446744073709551615"},"neg":{"$bigint":"-9223372036854775808"},"list":[{"$bigint":"1"},2],"s":"x","n":null}');
  assert.deepEqual(decodeJson(text), v);
});
