/** SDK UDP transport against a node:dgram echo server on 127.0.0.1. */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, test } from 'node:test';
import { isDriverError, openUdp } from '../../src/drivers/sdk/index.ts';
import type { UdpPeer } from '../../src/drivers/sdk/index.ts';

const echo = dgram.createSocket('udp4');
echo.on('message', (msg, rinfo) => echo.send(msg, rinfo.port, rinfo.address));
const echoPort = await new Promise<number>((r) => echo.bind(0, '127.0.0.1', () => r(echo.address().port)));
after(() => new Promise<void>((r) => echo.close(() => r())));

test('datagrams round-trip byte-exact, with their sender, on a port chosen at bind', async () => {
  const u = await openUdp({ bindHost: '127.0.0.1', bindPort: 0 });
  assert.ok(u.local.port > 0);
  assert.equal(u.local.host, '127.0.0.1');
  const got: { msg: Buffer; from: UdpPeer }[] = [];
  u.onMessage((msg, from) => got.push({ msg, from }));
  const a = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)); // 0xff..0x00
  const b = Buffer.from('810a0011', 'hex'); // a BVLC header, say: boundaries are kept
  await u.send(a, '127.0.0.1', echoPort);
  await u.send(b, '127.0.0.1', echoPort);
  for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(got.length, 2);
  assert.deepEqual(got.map((g) => g.msg), [a, b]);
  assert.deepEqual(got[0]!.from, { host: '127.0.0.1', port: echoPort });
  await u.close();
});

test('binding a port in use is Offline; close is idempotent; send after close is Offline', async () => {
  await assert.rejects(openUdp({ bindHost: '127.0.0.1', bindPort: echoPort }), (e: unknown) => isDriverError(e) && e.code === 'Offline' && e.detail?.['errno'] === 'EADDRINUSE');
  const u = await openUdp({ bindHost: '127.0.0.1', bindPort: 0 });
  let lost = 0;
  u.onClose(() => lost++);
  await Promise.all([u.close(), u.close()]);
  assert.equal(u.closed, true);
  await assert.rejects(u.send(Uint8Array.of(1), '127.0.0.1', echoPort), (e: unknown) => isDriverError(e) && e.code === 'Offline');
  assert.equal(lost, 0);
  // The port is free again.
  const again = await openUdp({ bindHost: '127.0.0.1', bindPort: u.local.port });
  await again.close();
});

test('an aborted signal refuses the bind; aborting later closes the socket', async () => {
  await assert.rejects(openUdp({ bindHost: '127.0.0.1', bindPort: 0, signal: AbortSignal.abort() }), (e: unknown) => isDriverError(e) && e.code === 'Offline');
  const ac = new AbortController();
  const u = await openUdp({ bindHost: '127.0.0.1', bindPort: 0, signal: ac.signal });
  ac.abort();
  assert.equal(u.closed, true);
  await u.close();
});
