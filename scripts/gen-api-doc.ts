/**
 * Writes docs/openapi.json and the route table of docs/api.md from the zod schemas
 * (src/gateway/api/openapi.ts). `npm run docs:api`; test/api/docs.test.ts checks they are current.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiDocText } from '../src/gateway/api/doc.ts';

const root = path.resolve(import.meta.dirname, '..');
const { markdown, openapi } = apiDocText();
writeFileSync(path.join(root, 'docs/api.md'), markdown);
writeFileSync(path.join(root, 'docs/openapi.json'), openapi);
console.log('wrote docs/api.md and docs/openapi.json');
