/** The IEC 104 benchmark's docs/performance.md writer: replaces its own section only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replaceSection } from '../../bench/iec104/report.ts';

const H = '## IEC 60870-5-104';

test('appends the section to a document without it, keeping what is there', () => {
  const doc = '# Performance\n\n## Modbus\n\n| a | b |\n';
  assert.equal(replaceSection(doc, H, `${H}\n\nnew\n`), '# Performance\n\n## Modbus\n\n| a | b |\n\n## IEC 60870-5-104\n\nnew\n');
  assert.equal(replaceSection('', H, `${H}\n\nnew`), '## IEC 60870-5-104\n\nnew\n');
});

test('replaces only its own section: up to the next heading of its level, subsections included', () => {
  const doc = ['# Performance', '', '## Modbus', 'm', '', H, 'old', '### detail', 'old detail', '', '## Shadow store', 's', ''].join('\n');
  assert.equal(replaceSection(doc, H, `${H}\nnew\n`), ['# Performance', '', '## Modbus', 'm', '', H, 'new', '', '## Shadow store', 's', ''].join('\n'));
  const last = ['# P', '', H, 'old', ''].join('\n');
  assert.equal(replaceSection(last, H, `${H}\nnew`), ['# P', '', H, 'new', ''].join('\n'));
});
