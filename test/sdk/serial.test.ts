/** SDK serial transport across a socat pty pair: bytes both ways, open errors, a vanished peer. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isDriverError, openSerial } from '../../src/drivers/sdk/index.ts';
import type { DriverError, SerialStream } from '../../src/drivers/sdk/index.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fieldgate-serial-'));
const streams: SerialStream[] = [];
let socat: ChildProcess | undefined;
after(async () => {
  for (const s of streams) await s.close();
  socat?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `socat pty,link=a pty,link=b` and waits (≤ 5 s) for both links. */
async function ptyPair(): Promise<{ a: string; b: string; proc: ChildProcess }> {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(a) && existsSync(b), 'socat made the pty pair');
  return { a, b, proc };
}

async function collect(s: SerialStream, n: number): Promise<Buffer> {
  const got: Buffer[] = [];
  const off = s.onData((d) => got.push(d));
  for (let i = 0; i < 400 && Buffer.concat(got).length < n; i++) await new Promise((r) => setTimeout(r, 5));
  off();
  return Buffer.concat(got);
}

test('bytes cross the pty pair exactly, both ways; then the peer vanishes: onClose once, Offline', async () => {
  const pair = await ptyPair();
  socat = pair.proc;
  const opts = { baudRate: 19200, parity: 'even', dataBits: 8, stopBits: 1 } as const;
  const a = await openSerial({ path: pair.a, ...opts });
  const b = await openSerial({ path: pair.b, ...opts });
  streams.push(a, b);
  assert.equal(a.path, pair.a);
  // An RTU read request (unit 1, FC 03, 0x0000, 2 registers, CRC C40B) and every byte value.
  const rtu = Buffer.from('010300000002c40b', 'hex');
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const atB = collect(b, rtu.length + all.length);
  a.write([rtu, all]);
  assert.deepEqual(await atB, Buffer.concat([rtu, all]));
  const reply = Buffer.from('01030400010002 2a32'.replace(/\s/g, ''), 'hex');
  const atA = collect(a, reply.length);
  b.write(reply);
  assert.deepEqual(await atA, reply);

  const seen: DriverError[] = [];
  a.onClose((e) => seen.push(e));
  pair.proc.kill(); // the ptys disappear, as a USB adapter pulled out would
  for (let i = 0; i < 400 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.code, 'Offline');
  assert.equal(a.closed, true);
  assert.throws(() => a.write(Uint8Array.of(0)), (e: unknown) => isDriverError(e) && e.code === 'Offline');
  await a.close();
  await a.close();
});

test('a missing port is Offline; an aborted open is Offline', async () => {
  await assert.rejects(openSerial({ path: path.join(dir, 'no-such-tty'), baudRate: 9600 }), (e: unknown) => isDriverError(e) && e.code === 'Offline' && /cannot open/.test(e.message));
  await assert.rejects(openSerial({ path: path.join(dir, 'a'), baudRate: 9600, signal: AbortSignal.abort() }), (e: unknown) => isDriverError(e) && e.code === 'Offline' && /aborted/.test(e.message));
});
