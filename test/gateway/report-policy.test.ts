import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReportPolicy } from '../../src/gateway/runtime/report-policy.ts';
import type { AttributeRule } from '../../src/gateway/runtime/report-policy.ts';

type Step = [t: number, value: number | boolean | string, quality: 'good' | 'bad' | 'uncertain', expected: boolean];

function run(rule: AttributeRule, steps: Step[], options = { heartbeat: 0, onChangeOnly: false }): boolean[] {
  const p = new ReportPolicy(new Map([['a', rule]]), options);
  return steps.map(([t, value, quality]) => p.admit('a', { value, quality }, t));
}

const cases: { name: string; rule: AttributeRule; options?: { heartbeat: number; onChangeOnly: boolean }; steps: Step[] }[] = [
  {
    name: 'Baetyl defaults (deviation 0, silentWin 0): every sample, changed or not',
    rule: { deviation: 0, deadband: 0, silentWin: 0 },
    steps: [[0, 10, 'good', true], [1000, 10, 'good', true], [2000, 11, 'good', true]],
  },
  {
    name: 'deviation 10%: both directions, relative to the last published value',
    rule: { deviation: 10, deadband: 0, silentWin: 0 },
    steps: [
      [0, 100, 'good', true],
      [1, 109, 'good', false], // +9% of 100
      [2, 110, 'good', true], // +10%: published, new base 110
      [3, 100, 'good', false], // -9.09% of 110
      [4, 99, 'good', true], // -10%
      [5, 99, 'good', false], // no change
    ],
  },
  {
    name: 'deviation against a last value of 0: any change publishes, no change does not',
    rule: { deviation: 5, deadband: 0, silentWin: 0 },
    steps: [[0, 0, 'good', true], [1, 0, 'good', false], [2, 0.001, 'good', true]],
  },
  {
    name: 'absolute deadband 0.5',
    rule: { deviation: 0, deadband: 0.5, silentWin: 0 },
    steps: [[0, 20, 'good', true], [1, 20.4, 'good', false], [2, 19.5, 'good', true], [3, 19.9, 'good', false], [4, 20.1, 'good', true]],
  },
  {
    name: 'silentWin re-sends an unchanged value once the window expires',
    rule: { deviation: 50, deadband: 0, silentWin: 5000 },
    steps: [[0, 1, 'good', true], [4999, 1, 'good', false], [5000, 1, 'good', true], [6000, 1, 'good', false], [10_000, 1, 'good', true]],
  },
  {
    name: 'quality change always publishes',
    rule: { deviation: 50, deadband: 0, silentWin: 0 },
    steps: [[0, 1, 'good', true], [1, 1, 'uncertain', true], [2, 1, 'uncertain', false], [3, 1, 'good', true]],
  },
  {
    name: 'non-numeric values with a deviation rule publish on change',
    rule: { deviation: 5, deadband: 0, silentWin: 0 },
    steps: [[0, true, 'good', true], [1, true, 'good', false], [2, false, 'good', true], [3, 'x', 'good', true], [4, 'x', 'good', false]],
  },
  {
    name: 'onChangeOnly: unchanged values wait for the heartbeat',
    rule: { deviation: 0, deadband: 0, silentWin: 0 },
    options: { heartbeat: 60_000, onChangeOnly: true },
    steps: [[0, 5, 'good', true], [1000, 5, 'good', false], [2000, 6, 'good', true], [61_999, 6, 'good', false], [62_000, 6, 'good', true]],
  },
];

for (const c of cases) {
  test(`report policy: ${c.name}`, () => {
    const got = run(c.rule, c.steps, c.options);
    assert.deepEqual(got, c.steps.map((s) => s[3]));
  });
}

test('report policy: reset makes the next sample publish', () => {
  const p = new ReportPolicy(new Map([['a', { deviation: 50, deadband: 0, silentWin: 0 }]]), { heartbeat: 0, onChangeOnly: false });
  assert.equal(p.admit('a', { value: 1, quality: 'good' }, 0), true);
  assert.equal(p.admit('a', { value: 1, quality: 'good' }, 1), false);
  p.reset();
  assert.equal(p.admit('a', { value: 1, quality: 'good' }, 2), true);
});
