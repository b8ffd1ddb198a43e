/**
 * In-process cost of the gateway's per-poll path without any I/O: normalize → shadow → report
 * policy → publisher payloads, for D devices × P points. `node --import tsx bench/micro/pipeline.ts`
 * prints µs per point for each stage, so a change to the hot path can be compared side by side.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompiledDevice, Mapping, ModelProperty } from '../../src/devicemodel/compiled.ts';
import { parseExpression } from '../../src/devicemodel/expression.ts';
import { defaultTopics } from '../../src/devicemodel/topics.ts';
import type { ReadResult } from '../../src/drivers/sdk/index.ts';
import { Normalizer } from '../../src/gateway/runtime/normalize.ts';
import { ReportPolicy } from '../../src/gateway/runtime/report-policy.ts';
import { metaOf, reportMessage, serialize } from '../../src/gateway/mqtt/envelope.ts';
import { splitPropertyMap } from '../../src/gateway/mqtt/split.ts';
import { openShadowStore } from '../../src/shadow/store.ts';

const D = Number(process.argv[2] ?? 200);
const P = Number(process.argv[3] ?? 100);
const ROUNDS = Number(process.argv[4] ?? 20);

const model = new Map<string, ModelProperty>();
const mappings: Mapping[] = [];
for (let i = 0; i < P; i++) {
  model.set(`a${i}`, { name: `a${i}`, type: 'float32', mode: 'ro' });
  const e = parseExpression(`x${i}`);
  if (!e.ok) throw new Error('expr');
  mappings.push({ attribute: `a${i}`, kind: 'value', expr: e.expr, pointIds: [String(i)], deviation: 0, deadband: 0, silentWin: 0 });
}
const devices: CompiledDevice[] = Array.from({ length: D }, (_, d) => ({
  name: `dev-${d}`,
  instance: 'm',
  driver: 'modbus',
  product: 'p',
  accessTemplate: 't',
  model,
  points: [],
  mappings,
  topics: defaultTopics('p', `dev-${d}`),
  connection: { interval: 1000, timeout: 1000 },
}));
const norms = devices.map(() => new Normalizer(mappings, model));
const policies = devices.map(() => new ReportPolicy(new Map(), { heartbeat: 0, onChangeOnly: false }));
const dir = mkdtempSync(path.join(os.tmpdir(), 'fg-micro-'));
const store = openShadowStore(path.join(dir, 'db'));

const t = { normalize: 0, shadow: 0, policy: 0, publish: 0 };
let points = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (let d = 0; d < D; d++) {
    const results: ReadResult[] = [];
    for (let i = 0; i < P; i++) results.push({ id: String(i), quality: 'good', value: Math.fround(r * 1.5 + i + d / 7) });
    const now = Date.now();
    let t0 = performance.now();
    const samples = norms[d]!.ingest(results, true);
    let t1 = performance.now();
    t.normalize += t1 - t0;
    const shadow: Record<string, { value?: unknown; ts: number; quality: 'good' }> = {};
    for (const [k, s] of samples) shadow[k] = { value: s.value, ts: now, quality: 'good' };
    store.report(devices[d]!.name, shadow as never);
    t0 = performance.now();
    t.shadow += t0 - t1;
    const props: Record<string, unknown> = {};
    for (const [k, s] of samples) if (policies[d]!.admit(k, s, now)) props[k] = s.value;
    t1 = performance.now();
    t.policy += t1 - t0;
    const meta = metaOf(devices[d]!, 'node');
    const split = splitPropertyMap((p) => reportMessage(meta, p, now), props, 32768);
    if (split.payloads.length === 0) serialize(reportMessage(meta, props, now));
    t.publish += performance.now() - t1;
    points += P;
  }
  await new Promise((res) => setImmediate(res));
}
const flushStart = performance.now();
store.flush();
const flushMs = performance.now() - flushStart;
store.close();
rmSync(dir, { recursive: true, force: true });
const us = (ms: number) => ((ms * 1000) / points).toFixed(3);
console.log(`${D} devices × ${P} points × ${ROUNDS} rounds = ${points} points`);
console.log(`µs per point: normalize ${us(t.normalize)}, shadow ${us(t.shadow)}, policy ${us(t.policy)}, publish payload ${us(t.publish)}; total ${us(t.normalize + t.shadow + t.policy + t.publish)}`);
console.log(`last flush ${flushMs.toFixed(1)} ms; process CPU ${(process.cpuUsage().user / 1e6).toFixed(2)} s user`);
