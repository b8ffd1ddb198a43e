#!/usr/bin/env node
// The fault suite (issue 9) at full scale: runs test/faults/*.test.ts one file at a time with
// FIELDGATE_FAULTS=full, gathers the row every scenario records (test/faults/report.ts), prints
// them as a markdown table and writes that table, with the date and the machine, into
// docs/faults.md between its table markers. Exits non-zero when a test failed.
// Usage: node scripts/faults.mjs [test file ...]   (default: every test/faults/*.test.ts)
//        FIELDGATE_FAULTS=ci node scripts/faults.mjs   (the bounded CI form, same table)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const scale = process.env.FIELDGATE_FAULTS === 'ci' ? 'ci' : 'full';
const args = process.argv.slice(2);
// Node 20's --test does not expand globs: list the files here.
const files =
  args.length > 0
    ? args
    : readdirSync(path.join(root, 'test', 'faults'))
        .filter((f) => f.endsWith('.test.ts'))
        .sort()
        .map((f) => path.join('test', 'faults', f));
if (files.length === 0) {
  console.error('no test files in test/faults');
  process.exit(1);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-faults-report-'));
const reportFile = path.join(tmp, 'rows.jsonl');
const started = new Date();
const load = os.loadavg()[0].toFixed(1);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=900000', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, FIELDGATE_FAULTS: scale, FIELDGATE_FAULTS_REPORT: reportFile },
});
const rows = existsSync(reportFile)
  ? readFileSync(reportFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim().length > 0)
      .map((l) => JSON.parse(l))
  : [];
rmSync(tmp, { recursive: true, force: true });
rows.sort((a, b) => String(a.scenario).localeCompare(String(b.scenario), 'en', { numeric: true }));

const cell = (v) => String(v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = [
  '| scenario | traffic | faults injected | lost | duplicated | recovery time | notes |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((x) => `| ${[x.scenario, x.traffic, x.faults, x.lost, x.duplicated, x.recovery, x.notes].map(cell).join(' | ')} |`),
].join('\n');
const cpus = os.cpus();
const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}, load average ${load} at start`;
const ok = r.status === 0;
const block = [
  `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${scale} form, on ${machine}; ${ok ? 'all tests passed' : `**tests failed (exit ${r.status ?? r.signal})**`}.`,
  '',
  table,
].join('\n');
console.log(`\n${block}\n`);

const START = '<!-- faults-table:start -->';
const END = '<!-- faults-table:end -->';
const doc = path.join(root, 'docs', 'faults.md');
const text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Fault suite\n\n## Results\n\n${START}\n${END}\n`;
const a = text.indexOf(START);
const b = text.indexOf(END);
const next = a >= 0 && b > a ? `${text.slice(0, a + START.length)}\n${block}\n${text.slice(b)}` : `${text.trimEnd()}\n\n## Results\n\n${START}\n${block}\n${END}\n`;
writeFileSync(doc, next);
console.log(`table written to ${path.relative(root, doc)}`);

if (rows.length === 0) console.error('no scenario recorded a row');
process.exit(ok && rows.length > 0 ? 0 : 1);
