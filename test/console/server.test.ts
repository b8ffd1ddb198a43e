/**
 * The console's server side over real HTTP against a gateway polling the Modbus simulator, with
 * an API token: the page and assets load without the token (with CSP and ETag), the event stream
 * and history need it, the stream carries new values and honours its filters, and a gateway with
 * an open stream still stops promptly.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startRig } from './setup.ts';
import type { ConsoleRig } from './setup.ts';

const TOKEN = 'server-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
let rig: ConsoleRig | undefined;
let stopped = false;
/** The JSON of an answer, untyped (the tests check its shape). */
const json = (r: Response): Promise<any> => r.json();

before(async () => {
  rig = await startRig({ token: TOKEN });
});

after(async () => {
  if (!stopped) await rig?.stop();
});

/**
 * Reads SSE messages from `path` until `done` says so or `ms` pass, then closes the socket. It
 * uses node:http rather than fetch: after an aborted fetch, undici opens a spare connection
 * that would hold the closing HTTP server for its idle time and blur the stop test below.
 */
function readEvents(path: string, done: (events: { event: string; data: any }[]) => boolean, ms: number) {
  return new Promise<{ event: string; data: any }[]>((resolve, reject) => {
    const events: { event: string; data: any }[] = [];
    const req = http.get(rig!.base + path, { headers: auth, agent: false }, (res) => {
      try {
        assert.equal(res.statusCode, 200);
        assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/);
      } catch (e) {
        req.destroy();
        return reject(e);
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
        if (done(events)) finish();
      });
      res.on('end', finish);
    });
    const timer = setTimeout(finish, ms);
    req.on('error', finish);
    function finish() {
      clearTimeout(timer);
      req.destroy();
      resolve(events);
    }
  });
}

test('the page and its assets load without the token, with CSP and ETag revalidation', async () => {
  const page = await fetch(`${rig!.base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.match(await page.text(), /<script type="module" src="\/console\/app\.js">/);
  const js = await fetch(`${rig!.base}/console/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(await js.text(), /api\/v1\/events/, 'the bundle is the console');
  const etag = js.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${rig!.base}/console/app.js`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal((await fetch(`${rig!.base}/console/styles.css`)).status, 200);
  const missing = await fetch(`${rig!.base}/console/secrets.txt`);
  assert.equal(missing.status, 404);
  assert.equal((await json(missing)).error.code, 'NotFound');
  assert.equal((await fetch(`${rig!.base}/console/..%2Fpackage.json`)).status, 404);
});

test('the stream and the history need the token; unknown devices are 404 naming the field', async () => {
  for (const path of ['/api/v1/events', '/api/v1/devices/boiler-1/history']) {
    const r = await fetch(rig!.base + path);
    assert.equal(r.status, 401, path);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await json(r)).error.code, 'Unauthorized');
  }
  const ev = await fetch(`${rig!.base}/api/v1/events?device=nope`, { headers: auth });
  assert.equal(ev.status, 404);
  assert.equal((await json(ev)).error.field, 'device');
  const h = await fetch(`${rig!.base}/api/v1/devices/nope/history`, { headers: auth });
  assert.equal(h.status, 404);
  assert.equal((await json(h)).error.field, 'name');
});

test('the stream carries a changed value; the history has the samples and the lifecycle', async () => {
  // Change the simulator once the stream has shown the old value, so both are in the history.
  let changed = false;
  const events = await readEvents(
    '/api/v1/events?device=boiler-1',
    (es) => {
      if (!changed && es.some((e) => e.event === 'values' && e.data.properties.temperature?.value === 61.5)) {
        changed = true;
        rig!.sim.device('boiler-1').set('temperature', 66.6);
      }
      return es.some((e) => e.event === 'values' && e.data.properties.temperature?.value === 66.6);
    },
    5000,
  );
  assert.equal(events[0]?.event, 'ready');
  const hit = events.find((e) => e.event === 'values' && e.data.properties.temperature?.value === 66.6);
  assert.ok(hit, `a values event with 66.6; got ${JSON.stringify(events.slice(-3))}`);
  assert.equal(hit.data.device, 'boiler-1');
  assert.equal(hit.data.properties.temperature.quality, 'good');
  assert.ok(events.every((e) => e.event === 'ready' || e.data.device === 'boiler-1' || e.event === 'status'), 'only boiler-1');

  const h = await json(await fetch(`${rig!.base}/api/v1/devices/boiler-1/history`, { headers: auth }));
  assert.equal(h.lifecycle[0].online, true);
  const temps: [number, number][] = h.series.temperature;
  assert.ok(temps.length >= 2);
  assert.deepEqual(
    temps.map(([, v]) => v).filter((v, i, a) => i === 0 || v !== a[i - 1]),
    [61.5, 66.6],
  );
  const chiller = await json(await fetch(`${rig!.base}/api/v1/devices/chiller-2/history`, { headers: auth }));
  assert.equal(chiller.lifecycle[0].online, false);
  assert.equal(chiller.lifecycle[0].error.code, 'Offline');
});

test('types=status limits the stream to status events', async () => {
  const events = await readEvents('/api/v1/events?types=status', (es) => es.filter((e) => e.event === 'status').length >= 2, 5000);
  assert.deepEqual([...new Set(events.map((e) => e.event))].sort(), ['ready', 'status']);
});

test('a gateway with an open stream stops promptly and ends the stream', async () => {
  const ended = new Promise<number>((resolve, reject) => {
    http
      .get(`${rig!.base}/api/v1/events`, { headers: auth, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(Date.now()));
      })
      .on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await rig!.stop();
  stopped = true;
  const took = Date.now() - t0;
  assert.ok(took < 2500, `stopped in ${took} ms`);
  assert.ok((await ended) - t0 < 2500, 'the stream ended');
});
