/** The text of an error answer: each property once, bounded, the rest counted. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorText, MAX_ERROR_TEXT } from '../../src/gateway/runtime/commands.ts';
import type { CommandError } from '../../src/gateway/runtime/device.ts';

const bad = (property: string, message: string): CommandError => ({ property, code: 'BadValue', message });

test('errorText names each property once, even when the message starts with it', () => {
  assert.equal(
    errorText([bad('setpoint', 'setpoint: expected a number (float32), got string "abc"'), bad('mode', 'not writable')]),
    'setpoint: expected a number (float32), got string "abc"; mode: not writable',
  );
  assert.equal(errorText([bad('', 'payload is not JSON')]), 'payload is not JSON');
});

test('errorText stops at the bound and counts what it left out', () => {
  const errors = Array.from({ length: 2000 }, (_, i) => bad(`unknown-property-${i}`, 'not in the model'));
  const t = errorText(errors);
  assert.ok(t.length <= MAX_ERROR_TEXT + 40, `length ${t.length}`);
  assert.match(t, /^unknown-property-0: not in the model; unknown-property-1: /);
  const shown = t.split('; ').filter((p) => p.startsWith('unknown-property-')).length;
  assert.match(t, new RegExp(`; … and ${2000 - shown} more$`));
  // One huge message alone is cut, not dropped.
  const one = errorText([bad('p', 'x'.repeat(10_000))], 100);
  assert.equal(one.length, 101);
  assert.ok(one.endsWith('…'));
});
