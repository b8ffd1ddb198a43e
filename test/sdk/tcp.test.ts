/** SDK TCP transport against node:net servers on 127.0.0.1: bytes, losses, and connect errors. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { after, test } from 'node:test';
import { FrameSplitter, isDriverError, ok, incomplete, openTcp } from '../../src/drivers/sdk/index.ts';
import type { DecodeResult, DriverError } from '../../src/drivers/sdk/index.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A server on 127.0.0.1:<free>; `onSocket` decides what it does with each connection. */
async function server(onSocket: (s: net.Socket) => void): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    if (srv.listening) await new Promise<void>((r) => srv.close(() => r()));
  };
  cleanups.push(close);
  return { port: (srv.address() as net.AddressInfo).port, sockets, close };
}

const echo = (s: net.Socket): void => void s.pipe(s);

/** Waits until `check` is true (polling every 5 ms, at most `ms`). */
async function until(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('bytes round-trip exactly through an echo server; an array is one write', async () => {
  const srv = await server(echo);
  const s = await openTcp({ host: '127.0.0.1', port: srv.port, timeoutMs: 1000, keepAlive: 5000 });
  assert.equal(s.remote.port, srv.port);
  const got: Buffer[] = [];
  s.onData((d) => got.push(d));
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // every byte value, 0x00..0xff
  s.write(all);
  s.write([Buffer.from('0d0a00ff', 'hex'), Uint8Array.of(1, 2, 3)]);
  await until(() => Buffer.concat(got).length >= 263);
  assert.deepEqual(Buffer.concat(got), Buffer.concat([all, Buffer.from('0d0a00ff010203', 'hex')]));
  await s.close();
  assert.equal(s.closed, true);
});

test('frames split and coalesced by the peer come out whole through a FrameSplitter', async () => {
  // The peer sends "a\nbb\nc" then, later, "cc\n": one coalesced chunk and one split frame.
  const srv = await server((sock) => {
    sock.write('a\nbb\nc');
    setTimeout(() => sock.write('cc\n'), 30);
  });
  const s = await openTcp({ host: '127.0.0.1', port: srv.port, timeoutMs: 1000 });
  const line = (b: Uint8Array): DecodeResult<string> => {
    const nl = b.indexOf(0x0a);
    return nl < 0 ? incomplete() : ok(Buffer.from(b.subarray(0, nl)).toString(), nl + 1);
  };
  const split = new FrameSplitter(line);
  const lines: string[] = [];
  s.onData((d) => {
    for (const f of split.push(d)) if (f.kind === 'ok') lines.push(f.value);
  });
  await until(() => lines.length === 3);
  assert.deepEqual(lines, ['a', 'bb', 'ccc']);
  await s.close();
});

test('a peer that closes: onClose once with Offline; writes then throw Offline', async () => {
  const srv = await server(() => undefined);
  const s = await openTcp({ host: '127.0.0.1', port: srv.port, timeoutMs: 1000 });
  const seen: DriverError[] = [];
  s.onClose((e) => seen.push(e));
  await until(() => srv.sockets.size === 1);
  for (const sock of srv.sockets) sock.end();
  await until(() => seen.length > 0);
  await new Promise((r) => setTimeout(r, 50)); // a second report would come by now
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.code, 'Offline');
  assert.match(seen[0]!.message, /closed by the peer/);
  assert.equal(s.closed, true);
  assert.throws(() => s.write(Uint8Array.of(1)), (e: unknown) => isDriverError(e) && e.code === 'Offline');
  // A late listener still learns of the loss.
  const late = await new Promise<DriverError>((r) => s.onClose(r));
  assert.equal(late.code, 'Offline');
  await s.close();
  await s.close();
});

test('close() is idempotent, releases the socket and does not call onClose', async () => {
  const srv = await server(echo);
  const s = await openTcp({ host: '127.0.0.1', port: srv.port, timeoutMs: 1000 });
  let calls = 0;
  s.onClose(() => calls++);
  await until(() => srv.sockets.size === 1);
  await Promise.all([s.close(), s.close()]);
  await until(() => srv.sockets.size === 0);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(calls, 0);
});

test('aborting the signal closes an open stream', async () => {
  const srv = await server(echo);
  const ac = new AbortController();
  const s = await openTcp({ host: '127.0.0.1', port: srv.port, timeoutMs: 1000, signal: ac.signal });
  await until(() => srv.sockets.size === 1);
  ac.abort();
  await until(() => srv.sockets.size === 0);
  assert.equal(s.closed, true);
});

test('a refused connect is Offline (ECONNREFUSED)', async () => {
  const srv = await server(() => undefined);
  await srv.close(); // the port is now closed: the kernel answers RST
  await assert.rejects(openTcp({ host: '127.0.0.1', port: srv.port, timeoutMs: 1000 }), (e: unknown) => {
    assert.ok(isDriverError(e));
    assert.equal(e.code, 'Offline');
    assert.equal(e.detail?.['errno'], 'ECONNREFUSED');
    return true;
  });
});

/**
 * A listener that never accepts (Python, backlog 0) with its accept queue filled: Linux then
 * drops further SYNs, so a connect neither succeeds nor is refused.
 */
async function fullBacklog(): Promise<{ port: number; fillers: net.Socket[] }> {
  const py: ChildProcess = spawn(
    '/usr/bin/python3',
    ['-c', "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()"],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  cleanups.push(() => {
    py.stdin?.end();
    py.kill();
  });
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    py.once('exit', () => reject(new Error('python exited')));
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const f = net.connect({ host: '127.0.0.1', port });
    f.on('error', () => undefined);
    fillers.push(f);
  }
  cleanups.push(() => fillers.forEach((f) => f.destroy()));
  await new Promise((r) => setTimeout(r, 100));
  return { port, fillers };
}

test('no connection within timeoutMs is Timeout; an abort while connecting is Offline', async () => {
  const { port } = await fullBacklog();
  const t0 = Date.now();
  await assert.rejects(openTcp({ host: '127.0.0.1', port, timeoutMs: 300 }), (e: unknown) => {
    assert.ok(isDriverError(e));
    assert.equal(e.code, 'Timeout');
    assert.match(e.message, /within 300 ms/);
    return true;
  });
  assert.ok(Date.now() - t0 >= 290, 'waited for the deadline');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(openTcp({ host: '127.0.0.1', port, timeoutMs: 5000, signal: ac.signal }), (e: unknown) => isDriverError(e) && e.code === 'Offline' && /aborted/.test(e.message));
});
