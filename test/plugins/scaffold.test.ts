/**
 * `fieldgate new-driver`: the package it writes passes its own tests as created (run with
 * node:test in a child process, fieldgate linked as `npm install` of the file: dependency would),
 * and it refuses bad names and non-empty folders.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newDriverCommand } from '../../src/gateway/cli/new-driver.ts';
import { linkFieldgate, REPO } from './link.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-scaffold-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the scaffolded plugin passes its own tests as created', async () => {
  const dir = path.join(tmp, 'fieldgate-driver-acme-meter');
  const lines: string[] = [];
  assert.equal(await newDriverCommand('acme-meter', dir, { out: (l) => lines.push(l) }), 0);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'fieldgate-driver-acme-meter');
  assert.equal(pkg.devDependencies.fieldgate, `file:${REPO}`);
  assert.match(readFileSync(path.join(dir, 'src', 'index.ts'), 'utf8'), /id: 'acme-meter'[\s\S]*sdkVersion: '\^1\.0\.0'/);
  for (const f of ['src/address.ts', 'src/session.ts', 'src/codec.ts', 'simulator/simulator.ts', 'test/conformance.test.ts', 'README.md']) assert.ok(existsSync(path.join(dir, f)), f);
  // What `npm install` would do for the file: dependency and the test runner.
  linkFieldgate(dir);
  symlinkSync(path.join(REPO, 'node_modules', 'tsx'), path.join(dir, 'node_modules', 'tsx'), 'dir');
  const tsx = fileURLToPath(import.meta.resolve('tsx'));
  // Run as a fresh test run, not as a child of this one (which would report in the runner's own format).
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--import', tsx, '--test', 'test/codec.test.ts', 'test/conformance.test.ts'], { cwd: dir, env, timeout: 60_000 }, (err, so, se) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: so, stderr: se }),
    );
    child.stdin?.end();
  });
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /# pass 2\n# fail 0/);
});

test('bad names and non-empty folders are refused', async () => {
  const lines: string[] = [];
  assert.equal(await newDriverCommand('Bad Name', path.join(tmp, 'x'), { out: (l) => lines.push(l) }), 2);
  assert.match(lines[0]!, /not a usable driver id/);
  const full = path.join(tmp, 'full');
  mkdirSync(full);
  writeFileSync(path.join(full, 'keep.txt'), 'mine');
  assert.equal(await newDriverCommand('ok', full, { out: (l) => lines.push(l) }), 2);
  assert.match(lines[1]!, /is not empty/);
  assert.equal(readFileSync(path.join(full, 'keep.txt'), 'utf8'), 'mine');
});
