import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openShadowStore } from '../../src/shadow/store.ts';

const WRITER = fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url));
const DEVICES = 20;

interface Line {
  versions: Record<string, number>;
  lastSeq: number;
}

/** Runs the writer, kills it with SIGKILL once it has reported `commits` batches; returns the last complete line. */
async function runAndKill(file: string, commits: number): Promise<Line> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, file, String(DEVICES), '20000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  let last: Line | undefined;
  let seen = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  const killed = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer printed ${seen} commits in 15 s; stderr: ${stderr}`));
    }, 15_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        last = JSON.parse(text) as Line; // a complete line: printed after its commit
        if (++seen === commits) {
          // Kill while the writer is busy: it keeps reporting between our read and the signal.
          child.kill('SIGKILL');
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  await killed;
  const sig = await exited;
  assert.equal(sig, 'SIGKILL');
  assert.ok(last !== undefined);
  return last;
}

test('kill -9 mid-loop: every shadow at least at its last printed committed version, database intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-kill9-'));
  const file = join(dir, 'shadow.db');
  const round1Versions: Record<string, number> = {};
  try {
    for (const [round, commits] of [[1, 15], [2, 25]] as const) {
      const before = round === 1 ? undefined : openShadowStore(file);
      const startSeq = before?.peek(1_000_000).at(-1)?.seq ?? 0;
      before?.close();

      const line = await runAndKill(file, commits);

      const db = new Database(file);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      db.close();

      const store = openShadowStore(file);
      try {
        assert.equal(store.devices().length, DEVICES);
        for (let i = 0; i < DEVICES; i++) {
          const d = `dev-${i}`;
          const s = store.get(d);
          assert.ok(s !== undefined, d);
          assert.ok(
            s.reportVersion >= (line.versions[d] ?? 0),
            `round ${round} ${d}: on disk ${s.reportVersion} < printed ${line.versions[d]}`,
          );
          // The row is one consistent state: the counter, every attribute and every meta entry match its version.
          const n = Number(s.report.n);
          // Every report changed every value, so the version counts the reports: those of round 1, then these.
          assert.equal(s.reportVersion, (round1Versions[d] ?? 0) + n, `round ${round} ${d}: version matches its counter`);
          assert.equal(s.report.p7, n * 1000 + 7, d);
          assert.equal(s.report.pad, 'x'.repeat(200) + n, d);
          assert.equal(Object.keys(s.meta.report).length, 42, d);
        }
        if (round === 1) for (const d of store.devices()) round1Versions[d] = store.get(d)?.reportVersion ?? 0;
        // Outbox: all messages up to the last printed seq are there, in order, none missing.
        const rows = store.peek(1_000_000, startSeq);
        assert.ok(rows.length > 0);
        assert.ok((rows.at(-1)?.seq ?? 0) >= line.lastSeq, `outbox ends at ${rows.at(-1)?.seq} < printed ${line.lastSeq}`);
        const msgs = rows.map((r) => (JSON.parse(r.payload.toString()) as { msg: number }).msg);
        assert.deepEqual(msgs, msgs.map((_, k) => k + 1), `round ${round}: outbox messages 1..${msgs.length} in order`);
        assert.deepEqual(rows.map((r) => r.seq), rows.map((_, k) => startSeq + k + 1), 'seqs contiguous');
      } finally {
        store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
