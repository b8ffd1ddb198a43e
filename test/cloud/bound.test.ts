import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ShadowStoreOptions } from '../../src/shadow/store-api.ts';
import type { OutboxLimits } from '../../src/shadow/sync/outbox-bound.ts';
import { NODE, rig } from './setup.ts';
import { waitUntil } from './helpers.ts';

interface Case {
  readonly name: string;
  readonly limits?: OutboxLimits;
  readonly store?: ShadowStoreOptions;
  /** Backlog allowed once the bound has acted. */
  readonly check: (c: { backlog: number; backlogBytes: number }) => boolean;
}

const cases: Case[] = [
  { name: 'rows (CloudSync maxRows)', limits: { maxRows: 50 }, check: (c) => c.backlog <= 50 },
  { name: 'bytes (CloudSync maxBytes)', limits: { maxBytes: 20_000 }, check: (c) => c.backlogBytes <= 20_000 && c.backlog < 200 },
  { name: 'age (CloudSync maxAgeMs)', limits: { maxAgeMs: 300 }, check: (c) => c.backlog === 0 },
  { name: "rows (the store's outboxMax)", store: { outboxMax: 50 }, check: (c) => c.backlog <= 50 },
];

for (const c of cases) {
  test(`outbox bound by ${c.name}: oldest dropped, counted, warned; the latest shadow still reaches the cloud`, async () => {
    const r = await rig({ cloudDown: true, ...(c.store ? { store: c.store } : {}), sync: { ...(c.limits ? { limits: c.limits } : {}) } });
    try {
      for (let n = 1; n <= 100; n++) {
        r.report('d1', { n, pad: 'x'.repeat(100) });
        r.report('d2', { n: n * 2 });
      }
      await waitUntil(() => r.sync.counters.dropped > 0 && c.check(r.sync.counters), 4000, 'the bound to drop rows');
      const dropped = r.sync.counters.dropped;
      assert.ok(dropped >= 100, `dropped ${dropped}`);
      const warn = r.log.lines.find((l) => l.level === 'warn' && /over its bound/.test(l.msg));
      assert.ok(warn, 'a warning names the drop');
      assert.ok((warn.obj as { dropped: number }).dropped > 0);

      await r.cloud.start();
      await r.cloud.waitFor(
        () =>
          ['d1', 'd2'].every((d) => (r.cloud.device(NODE, d)?.counters.fullReports ?? 0) >= 1) &&
          r.cloud.device(NODE, 'd1')?.reported['n'] === 100 &&
          r.cloud.device(NODE, 'd2')?.reported['n'] === 200,
        8000,
        'full shadows and latest state at the cloud',
      );
      for (const dev of ['d1', 'd2']) {
        const d = r.cloud.device(NODE, dev)!;
        assert.equal(d.history.at(-1)!.full, true, `${dev}: the full shadow comes after what was left of the backlog`);
        assert.equal(d.reportVersion, 100);
        // The oldest reports are gone: the first one the cloud saw is not report 1 (unless it is the full one).
        const first = d.history[0]!;
        assert.ok(first.full || first.reportVersion > 1, `${dev} first report ${first.reportVersion}`);
      }
      assert.equal(r.cloud.device(NODE, 'd1')!.reported['pad'], 'x'.repeat(100));
      await waitUntil(() => r.store.stats().outbox.size === 0, 5000, 'outbox drained');
    } finally {
      await r.close();
    }
  });
}
