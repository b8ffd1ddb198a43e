import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloudCommand, parseAssignments } from '../../src/gateway/cli/cloud.ts';
import { NODE, rig } from './setup.ts';

test('parseAssignments: JSON when it parses, else a string', () => {
  assert.deepEqual(parseAssignments(['sp=21.5', 'on=true', 'name=pump A', 'q="7"', 'o={"a":1}', 'big=18446744073709551615', 'e=']), {
    ok: true,
    props: { sp: 21.5, on: true, name: 'pump A', q: '7', o: { a: 1 }, big: 18446744073709551615n, e: '' },
  });
  assert.equal(parseAssignments(['novalue']).ok, false);
  assert.equal(parseAssignments(['=1']).ok, false);
  assert.equal(parseAssignments([]).ok, false);
});

/** Runs the command with stdout/stderr captured. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await cloudCommand(args), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

test('fieldgate cloud set / get against the simulator: the desired value reaches the gateway store', async () => {
  const r = await rig({ httpPort: 0 });
  try {
    r.report('pump', { sp: 10 });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'pump')?.reportVersion === 1, 5000, 'report');
    const url = r.cloud.httpUrl!;

    const set = await run(['set', 'pump', 'sp=21.5', 'label=left', '--url', url]);
    assert.equal(set.code, 0, set.err);
    assert.deepEqual(JSON.parse(set.out), { node: NODE, device: 'pump', desired: { sp: 21.5, label: 'left' } });
    await r.cloud.waitFor(() => r.cloud.device(NODE, 'pump')!.answers.length === 1, 5000, 'answer');
    assert.deepEqual(r.store.get('pump')!.desire, { sp: 21.5, label: 'left' });

    const get = await run(['get', 'pump', '--url', url]);
    assert.equal(get.code, 0, get.err);
    const view = JSON.parse(get.out);
    assert.deepEqual(view.reported, { sp: 10 });
    assert.deepEqual(view.delta, { sp: 21.5, label: 'left' });
    assert.equal(view.edgeDesireVersion, 1);

    const stats = (await (await fetch(`${url}/stats`)).json()) as { reports: number };
    assert.equal(stats.reports, 1);

    assert.equal((await run(['get', 'nope', '--url', url])).code, 1);
    assert.equal((await run(['set', 'pump', 'oops', '--url', url])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    const bad = await fetch(`${url}/devices/pump/desired`, { method: 'POST', body: '[1]' });
    assert.equal(bad.status, 400);
  } finally {
    await r.close();
  }
  // Nothing listening any more: a clear failure, not a crash.
  const down = await run(['get', 'pump', '--url', 'http://127.0.0.1:9']);
  assert.equal(down.code, 1);
  assert.match(down.err, /cannot reach/);
});
