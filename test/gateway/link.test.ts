import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DriverError } from '../../src/drivers/sdk/index.ts';
import type { BaseConnection, ConnectOptions, Driver, Session } from '../../src/drivers/sdk/index.ts';
import { Link } from '../../src/gateway/runtime/link.ts';
import type { LinkState } from '../../src/gateway/runtime/link.ts';
import { FakeClock, flush } from '../helpers/fake-clock.ts';
import { memoryLogger } from '../helpers/log.ts';

/** An in-memory driver whose connect outcome and call behaviour the test controls. */
class ScriptedDriver implements Driver<BaseConnection, unknown> {
  connectResults: ('ok' | 'fail')[] = [];
  connects = 0;
  lost: ConnectOptions['onLost'] | undefined;
  closed = 0;
  connect(_c: BaseConnection, o: ConnectOptions): Promise<Session<BaseConnection, unknown>> {
    this.connects++;
    const r = this.connectResults.shift() ?? 'ok';
    if (r === 'fail') return Promise.reject(new DriverError('Offline', 'connection refused'));
    this.lost = o.onLost;
    return Promise.resolve({
      read: async () => [],
      close: async () => void this.closed++,
    });
  }
}

const conn: BaseConnection = { interval: 1000, timeout: 500 };
const backoff = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 };

function makeLink(driver: ScriptedDriver, clock: FakeClock, extra: Partial<ConstructorParameters<typeof Link>[0]> = {}) {
  const states: LinkState[] = [];
  const link = new Link({ key: 'k', window: 1, driver, connection: conn, clock, log: memoryLogger(), backoff, onState: (s) => states.push(s), ...extra });
  return { link, states };
}

test('link: failed connects back off exponentially (capped), then go online', async () => {
  const clock = new FakeClock();
  const d = new ScriptedDriver();
  d.connectResults = ['fail', 'fail', 'fail', 'fail', 'fail', 'ok'];
  const { link, states } = makeLink(d, clock);
  link.start();
  await flush();
  assert.equal(link.state, 'backoff');
  // delays 100, 200, 400, 800, 1000 (capped)
  for (const [ms, connects] of [[99, 1], [1, 2], [200, 3], [400, 4], [800, 5], [999, 5], [1, 6]] as const) {
    await clock.advance(ms);
    assert.equal(d.connects, connects, `after +${ms} ms`);
  }
  assert.equal(link.state, 'online');
  assert.deepEqual(states.filter((s, i) => states[i - 1] !== s).slice(0, 3), ['connecting', 'backoff', 'connecting']);
  await link.close();
  assert.equal(link.state, 'closed');
});

test('link: a lost session goes to backoff, rejects queued work, and reconnects by itself', async () => {
  const clock = new FakeClock();
  const d = new ScriptedDriver();
  let sessions = 0;
  const { link } = makeLink(d, clock, { onSession: () => void sessions++ });
  link.start();
  await flush();
  assert.equal(link.state, 'online');
  d.lost!({ code: 'Offline', message: 'socket closed' });
  assert.equal(link.state, 'backoff');
  assert.equal(link.error?.message, 'socket closed');
  await assert.rejects(link.run(async () => 1), (e: DriverError) => e.code === 'Offline');
  assert.equal(d.closed, 1, 'the broken session is closed');
  await clock.advance(100);
  assert.equal(link.state, 'online');
  assert.equal(sessions, 2);
  assert.equal(await link.run(async () => 42), 42);
  await link.close();
});

test('link: at most `window` calls in flight, writes before queued reads', async () => {
  const clock = new FakeClock();
  const d = new ScriptedDriver();
  const link = new Link({ key: 'k', window: 2, driver: d, connection: conn, clock, log: memoryLogger(), backoff });
  link.start();
  await flush();
  let inFlight = 0;
  let peak = 0;
  const order: string[] = [];
  const job = (name: string) => async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise<void>((r) => clock.setTimeout(r, 10));
    order.push(name);
    inFlight--;
  };
  const all = [link.run(job('r1')), link.run(job('r2')), link.run(job('r3')), link.run(job('r4')), link.run(job('w1'), 'write')];
  await clock.advance(100);
  await Promise.all(all);
  assert.equal(peak, 2);
  assert.deepEqual(order, ['r1', 'r2', 'w1', 'r3', 'r4']);
  await link.close();
});

test('link: an Offline error from a call recycles the link', async () => {
  const clock = new FakeClock();
  const d = new ScriptedDriver();
  const { link } = makeLink(d, clock);
  link.start();
  await flush();
  await assert.rejects(link.run(async () => { throw new DriverError('Offline', 'ECONNRESET'); }));
  assert.equal(link.state, 'backoff');
  await clock.advance(100);
  assert.equal(link.state, 'online');
  assert.equal(d.connects, 2);
  await link.close();
});

test('link: timeouts recycle the link only when every device on it timed out', async () => {
  const clock = new FakeClock();
  const d = new ScriptedDriver();
  const { link } = makeLink(d, clock, { maxTimeouts: 3, deviceCount: () => 2 });
  link.start();
  await flush();
  const timeout = async () => { throw new DriverError('Timeout', 'no answer'); };
  for (let i = 0; i < 4; i++) await link.run(timeout, 'read', 'dead-unit').catch(() => undefined);
  assert.equal(link.state, 'online', 'one dead unit on a shared bus does not recycle it');
  await link.run(timeout, 'read', 'other-unit').catch(() => undefined);
  assert.equal(link.state, 'backoff', 'both units timing out does');
  await link.close();
});

test('link: close during backoff stops reconnecting', async () => {
  const clock = new FakeClock();
  const d = new ScriptedDriver();
  d.connectResults = ['fail'];
  const { link } = makeLink(d, clock);
  link.start();
  await flush();
  await link.close();
  await clock.advance(10_000);
  assert.equal(d.connects, 1);
  assert.equal(link.state, 'closed');
});
