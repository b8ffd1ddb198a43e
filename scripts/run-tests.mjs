#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test + tsx (Node 20's --test does not expand globs).
// Usage: node scripts/run-tests.mjs [folder-or-file ...]   (default: all of test/)
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
// The example plugin is a package of its own that imports `fieldgate/sdk`, as a published plugin
// would: link this repository as its `fieldgate` (what `npm install` of its file: dependency does).
const examples = ['examples/driver-plugin'];
for (const ex of examples) {
  const nm = path.join(root, ex, 'node_modules');
  const link = path.join(nm, 'fieldgate');
  let present = false;
  try {
    present = lstatSync(link) !== undefined;
  } catch {}
  if (!present && existsSync(path.join(root, ex))) {
    mkdirSync(nm, { recursive: true });
    symlinkSync(path.relative(nm, root), link, 'dir');
  }
}
const targets = args.length > 0 ? args : ['test', ...examples.map((e) => `${e}/test`)];

function collect(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p).sort()) {
      if (e === 'node_modules' || e === 'fixtures') continue;
      collect(path.join(p, e), out);
    }
  } else if (p.endsWith('.test.ts')) out.push(p);
  return out;
}

const files = targets.flatMap((t) => collect(path.resolve(root, t), []));
if (files.length === 0) {
  console.error('no test files found under', targets.join(', '));
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=120000', ...files.map((f) => path.relative(root, f))],
  { stdio: 'inherit', cwd: root },
);
process.exit(r.status ?? 1);
