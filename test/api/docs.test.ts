import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { apiDocText } from '../../src/gateway/api/doc.ts';

test('docs/api.md and docs/openapi.json match the schemas (run npm run docs:api after a change)', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const { markdown, openapi } = apiDocText();
  assert.equal(readFileSync(path.join(root, 'docs/api.md'), 'utf8'), markdown);
  assert.equal(readFileSync(path.join(root, 'docs/openapi.json'), 'utf8'), openapi);
});
