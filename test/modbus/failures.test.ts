/**
 * Link failures and malformed frames: a server that never answers (Timeout within the timeout),
 * a server that goes away (Offline, onLost once), refused connections, close/abort while a call
 * is in flight, and raw TCP servers that answer garbage (bad quality or a Protocol/Timeout error,
 * never a crash).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import descriptor from '../../src/drivers/modbus/index.ts';
import type { ModbusAddress, ModbusConnection } from '../../src/drivers/modbus/address.ts';
import type { PointError, Session } from '../../src/drivers/sdk/index.ts';
import { context, dev, freePort, never, pt } from './helpers.ts';
import { tables, tcpServer, waitFor } from './servers.ts';

type S = Session<ModbusConnection, ModbusAddress>;
const P2 = [pt('a', 'uint16', { function: 3, address: 0 }), pt('b', 'uint16', { function: 3, address: 1 })];

/** A raw TCP server; `answer` gets each request chunk and returns bytes to send (or nothing). */
async function rawServer(answer: (req: Buffer, n: number) => Buffer | undefined): Promise<{ port: number; requests: Buffer[]; close(): Promise<void> }> {
  const requests: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    sock.on('data', (req) => {
      requests.push(req);
      const out = answer(req, requests.length);
      if (out !== undefined) sock.write(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An MBAP frame (Modbus Messaging on TCP/IP V1.0b §3.1.3): tid, protocol 0, length, unit, PDU. */
function mbap(tid: number, unit: number, pdu: number[], length = pdu.length + 1): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(length, 4);
  b[6] = unit;
  Buffer.from(pdu).copy(b, 7);
  return b;
}

async function open(port: number, more: Record<string, unknown> = {}) {
  const d = dev('dev', { id: 1, timeout: 300, tcp: { address: '127.0.0.1', port }, ...more });
  const lost: PointError[] = [];
  const s: S = await descriptor.create(context()).connect(d.connection, { signal: never, onLost: (e) => lost.push(e) });
  return { d, s, lost };
}

async function rejects(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    const err = e as { code?: string; name?: string; message?: string };
    assert.equal(err.name, 'DriverError');
    assert.equal(err.code, code, err.message);
    if (re) assert.match(err.message ?? '', re);
    return true;
  });
}

describe('timeouts and lost links', () => {
  test('a server that never answers: Timeout within about the timeout, retries resend', async () => {
    const srv = await rawServer(() => undefined);
    const { d, s } = await open(srv.port);
    try {
      let t0 = performance.now();
      await rejects(s.read(d, P2, never), 'Timeout');
      let took = performance.now() - t0;
      assert.ok(took >= 280 && took < 900, `took ${took} ms`);
      assert.equal(srv.requests.length, 1);
      const d2 = dev('dev', { ...d.connection, retries: 2 });
      t0 = performance.now();
      await rejects(s.read(d2, P2, never), 'Timeout');
      took = performance.now() - t0;
      assert.ok(took >= 850 && took < 2000, `3 attempts took ${took} ms`);
      assert.equal(srv.requests.length, 4);
    } finally {
      await s.close();
      await srv.close();
    }
  });

  test('server closes: onLost once with Offline, pending call fails at once, later calls Offline', async () => {
    const unit = tables({ holding: new Map([[0, 7], [1, 8]]) });
    const srv = await tcpServer(new Map([[1, unit]]), 2000);
    const { d, s, lost } = await open(srv.port, { timeout: 5000 });
    try {
      const pending = s.read(d, P2, never);
      await waitFor(() => unit.log.length > 0, 2000, 'the request to reach the server');
      const t0 = performance.now();
      await srv.close();
      await rejects(pending, 'Offline');
      assert.ok(performance.now() - t0 < 1000, 'the pending read failed without waiting for its timeout');
      await waitFor(() => lost.length > 0, 2000, 'onLost');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(lost.length, 1);
      assert.equal(lost[0]?.code, 'Offline');
      await rejects(s.read(d, P2, never), 'Offline');
      await rejects(s.write!(d, [{ point: P2[0]!, value: 1 }], never), 'Offline');
    } finally {
      await s.close();
    }
  });

  test('server resets the connection (ECONNRESET): onLost once with Offline', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((sock) => {
      sockets.push(sock);
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { d, s, lost } = await open((server.address() as net.AddressInfo).port, { timeout: 5000 });
    try {
      await waitFor(() => sockets.length > 0, 2000, 'the connection');
      const pending = s.read(d, P2, never);
      await new Promise((r) => setTimeout(r, 50));
      sockets[0]!.resetAndDestroy(); // RST: the client socket emits 'error' before 'close'
      await rejects(pending, 'Offline');
      await waitFor(() => lost.length > 0, 2000, 'onLost');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(lost.map((e) => e.code), ['Offline']);
    } finally {
      await s.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('connection refused: connect rejects with Offline', async () => {
    const port = await freePort();
    await rejects(open(port), 'Offline', new RegExp(`127.0.0.1:${port}`));
  });

  test('a serial port that does not exist: connect rejects with Offline', async () => {
    const d = dev('ser', { timeout: 1000, rtu: { port: '/nonexistent/ttyFG0' } });
    await rejects(descriptor.create(context()).connect(d.connection, { signal: never, onLost: () => {} }), 'Offline', /ttyFG0/);
  });

  test('close() while a read is in flight: the read rejects with Offline, onLost is not called', async () => {
    const srv = await rawServer(() => undefined);
    const { d, s, lost } = await open(srv.port, { timeout: 5000 });
    const pending = s.read(d, P2, never);
    await waitFor(() => srv.requests.length > 0, 2000, 'the request');
    await s.close();
    await rejects(pending, 'Offline');
    await s.close();
    await srv.close();
    assert.deepEqual(lost, []);
  });

  test('an aborted signal ends the call without waiting for the timeout', async () => {
    const srv = await rawServer(() => undefined);
    const { d, s } = await open(srv.port, { timeout: 5000 });
    try {
      const ac = new AbortController();
      const pending = s.read(d, P2, ac.signal);
      await waitFor(() => srv.requests.length > 0, 2000, 'the request');
      ac.abort();
      await rejects(pending, 'Offline', /abort/);
    } finally {
      await s.close();
      await srv.close();
    }
  });
});

describe('malformed and truncated answers', () => {
  // Each case answers the request `req` (tid at bytes 0-1, unit at 6) with broken bytes.
  const cases: { name: string; answer: (req: Buffer) => Buffer; want: 'bad' | 'Timeout' }[] = [
    // FC3 for 2 registers answered with 1 register (byte count 2): "Data length error".
    { name: 'too few registers', answer: (req) => mbap(req.readUInt16BE(0), req[6]!, [3, 2, 0, 1]), want: 'bad' },
    // MBAP length field 1 (only the unit id): a PDU shorter than any response.
    { name: 'MBAP length 1', answer: (req) => mbap(req.readUInt16BE(0), req[6]!, [], 1), want: 'bad' },
    // Right length, wrong function code in the reply.
    { name: 'wrong function code', answer: (req) => mbap(req.readUInt16BE(0), req[6]!, [4, 4, 0, 1, 0, 2]), want: 'bad' },
    // Right frame from another unit id.
    { name: 'wrong unit id', answer: (req) => mbap(req.readUInt16BE(0), 9, [3, 4, 0, 1, 0, 2]), want: 'bad' },
    // A truncated MBAP header (3 of 7 bytes), then silence.
    { name: 'truncated MBAP header', answer: () => Buffer.from([0x00, 0x01, 0x00]), want: 'Timeout' },
    // The MBAP length promises 200 bytes that never come.
    { name: 'MBAP length larger than the data', answer: (req) => mbap(req.readUInt16BE(0), req[6]!, [3, 4, 0, 1], 200), want: 'Timeout' },
    // An answer for a transaction id that was never sent.
    { name: 'unknown transaction id', answer: (req) => mbap(req.readUInt16BE(0) + 77, req[6]!, [3, 4, 0, 1, 0, 2]), want: 'Timeout' },
    // Random bytes.
    { name: 'garbage', answer: () => Buffer.from('ffffffff0003deadbeef00112233', 'hex'), want: 'Timeout' },
  ];
  for (const c of cases) {
    test(`${c.name} -> ${c.want === 'bad' ? 'bad quality (Protocol)' : 'Timeout'}`, async () => {
      const srv = await rawServer((req) => c.answer(req));
      const { d, s } = await open(srv.port);
      try {
        if (c.want === 'Timeout') {
          await rejects(s.read(d, P2, never), 'Timeout');
        } else {
          const r = await s.read(d, P2, never);
          assert.equal(r.length, 2);
          for (const x of r) {
            assert.ok(x.quality === 'bad', JSON.stringify(x));
            assert.equal(x.error.code, 'Protocol');
          }
        }
      } finally {
        await s.close();
        await srv.close();
      }
    });
  }

  test('a malformed first answer is retried when retries > 0', async () => {
    const srv = await rawServer((req, n) => (n === 1 ? mbap(req.readUInt16BE(0), req[6]!, [3, 2, 0, 1]) : mbap(req.readUInt16BE(0), req[6]!, [3, 4, 0, 5, 0, 6])));
    const { d, s } = await open(srv.port, { retries: 1 });
    try {
      const r = await s.read(d, P2, never);
      assert.deepEqual(
        r.map((x) => (x.quality !== 'bad' ? x.value : x.error.code)),
        [5, 6],
      );
      assert.equal(srv.requests.length, 2);
    } finally {
      await s.close();
      await srv.close();
    }
  });
});
