/**
 * The files `fieldgate new-driver NAME` writes: a plugin package for a tiny line protocol
 * ("READ <n>" → "VALUE <n> <number>" | "ERROR <n> <reason>") with its address schema, session,
 * a simulator stub and a conformance test, so that it passes its tests as created and the author
 * replaces the protocol step by step.
 */

export interface ScaffoldVars {
  /** Driver id, e.g. `acme`. */
  readonly id: string;
  /** npm package name, e.g. `fieldgate-driver-acme`. */
  readonly pkg: string;
  /** What `fieldgate` resolves to in devDependencies (`file:<path>` or a semver range). */
  readonly fieldgate: string;
  /** Class-name prefix, e.g. `Acme`. */
  readonly Name: string;
}

export function templates(v: ScaffoldVars): Record<string, string> {
  return {
    'package.json': `${JSON.stringify(
      {
        name: v.pkg,
        version: '0.1.0',
        description: `fieldgate driver plugin: ${v.id}`,
        type: 'module',
        exports: { '.': './src/index.ts', './simulator': './simulator/simulator.ts' },
        keywords: ['fieldgate', 'fieldgate-driver'],
        scripts: { test: 'node --import tsx --test test/*.test.ts' },
        peerDependencies: { fieldgate: '>=0.1.0' },
        devDependencies: { fieldgate: v.fieldgate, tsx: '^4.0.0' },
      },
      null,
      2,
    )}\n`,
    'README.md': `# ${v.pkg}

A fieldgate driver plugin (driver id \`${v.id}\`), created by \`fieldgate new-driver ${v.id}\`.

- \`src/address.ts\`: zod schemas of \`accessConfig.${v.id}\` and \`visitor.${v.id}\`
- \`src/codec.ts\`: the protocol's lines, pure (no sockets)
- \`src/session.ts\`: one connection; \`src/index.ts\`: the descriptor
- \`simulator/simulator.ts\`: a device to test against
- \`test/conformance.test.ts\`: fieldgate's conformance kit against the simulator

Run \`npm test\`. Use it in a gateway with \`plugins: [{package: ${v.pkg}}]\` in gateway.yaml
(isolated in a worker thread by default). See fieldgate's docs/plugins.md.
`,
    'src/address.ts': `/** zod schemas of a ${v.id} device (\`accessConfig.${v.id}\`) and point (\`visitor.${v.id}\`). */
import { baseConnectionShape, z } from 'fieldgate/sdk';

export const connectionSchema = z.strictObject({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  ...baseConnectionShape({ interval: 5000, timeout: 1000 }),
});
export type ${v.Name}Connection = z.output<typeof connectionSchema>;

export const addressSchema = z.strictObject({
  /** The register number the device knows the value by. */
  register: z.number().int().min(0).max(65535),
});
export type ${v.Name}Address = z.output<typeof addressSchema>;
`,
    'src/codec.ts': `/**
 * The protocol, pure: "READ <n>\\n" is answered by "VALUE <n> <number>\\n" or "ERROR <n> <reason>\\n",
 * in request order. Replace with your device's framing; keep it free of sockets.
 */
export type Reply = { readonly kind: 'value'; readonly register: number; readonly value: number } | { readonly kind: 'error'; readonly register: number; readonly reason: string };

export function encodeRead(register: number): Buffer {
  return Buffer.from(\`READ \${register}\\n\`, 'ascii');
}

/** One reply from the front of \`buf\`: ok with the bytes used, incomplete, or an error. */
export function decodeReply(buf: Buffer): { kind: 'ok'; value: Reply; consumed: number } | { kind: 'incomplete' } | { kind: 'error'; error: string; consumed: number } {
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return { kind: 'incomplete' };
  const line = buf.subarray(0, nl).toString('ascii').trim();
  const v = /^VALUE (\\d+) (-?\\d+(?:\\.\\d+)?)$/.exec(line);
  if (v) return { kind: 'ok', value: { kind: 'value', register: Number(v[1]), value: Number(v[2]) }, consumed: nl + 1 };
  const e = /^ERROR (\\d+) (.+)$/.exec(line);
  if (e) return { kind: 'ok', value: { kind: 'error', register: Number(e[1]), reason: e[2]! }, consumed: nl + 1 };
  return { kind: 'error', error: \`unexpected line \${JSON.stringify(line)}\`, consumed: nl + 1 };
}
`,
    'src/session.ts': `/**
 * One TCP connection to a ${v.id} device. The gateway owns the link: report a broken link through
 * onLost (or by throwing Offline/Timeout) and never reconnect here. One failed point is a bad
 * result for that point, never an exception.
 */
import net from 'node:net';
import { DriverError } from 'fieldgate/sdk';
import type { ConnectOptions, DeviceRef, Point, ReadResult, Session } from 'fieldgate/sdk';
import type { ${v.Name}Address, ${v.Name}Connection } from './address.ts';
import { decodeReply, encodeRead } from './codec.ts';
import type { Reply } from './codec.ts';

export class ${v.Name}Session implements Session<${v.Name}Connection, ${v.Name}Address> {
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: DriverError) => void; timer: NodeJS.Timeout }[] = [];
  private buf = Buffer.alloc(0);
  private closed = false;

  private constructor(private readonly socket: net.Socket, private readonly options: ConnectOptions) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.lost('Offline', 'connection closed'));
    socket.on('error', (e) => this.lost('Offline', e.message));
  }

  static open(c: ${v.Name}Connection, options: ConnectOptions): Promise<${v.Name}Session> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: c.address, port: c.port });
      const fail = (e: DriverError) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new DriverError('Timeout', \`no connection within \${c.timeout} ms\`)), c.timeout);
      socket.once('error', (e) => fail(new DriverError('Offline', e.message)));
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ${v.Name}Session(socket, options));
      });
    });
  }

  async read(device: DeviceRef<${v.Name}Connection>, points: readonly Point<${v.Name}Address>[]): Promise<ReadResult[]> {
    const replies = await Promise.all(points.map((p) => this.request(p.address.register, device.connection.timeout)));
    return points.map((p, i): ReadResult => {
      const r = replies[i]!;
      return r.kind === 'value' ? { id: p.id, quality: 'good', value: r.value } : { id: p.id, quality: 'bad', error: { code: 'BadAddress', message: r.reason } };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new DriverError('Offline', 'session closed'));
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private request(register: number, timeout: number): Promise<Reply> {
    if (this.closed) return Promise.reject(new DriverError('Offline', 'session closed'));
    return new Promise((resolve, reject) => {
      // Answers come in order: after a timeout the stream is out of step, so give the link back.
      const timer = setTimeout(() => this.lost('Timeout', \`no answer for register \${register} within \${timeout} ms\`), timeout);
      this.waiting.push({ resolve, reject, timer });
      this.socket.write(encodeRead(register));
    });
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const r = decodeReply(this.buf);
      if (r.kind === 'incomplete') return;
      this.buf = this.buf.subarray(r.consumed);
      if (r.kind === 'error') continue;
      const w = this.waiting.shift();
      if (w === undefined) continue;
      clearTimeout(w.timer);
      w.resolve(r.value);
    }
  }

  private lost(code: 'Offline' | 'Timeout', message: string): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new DriverError(code, message));
    this.socket.destroy();
    this.options.onLost({ code, message });
  }

  private failAll(e: DriverError): void {
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }
}
`,
    'src/index.ts': `/** The ${v.id} driver plugin: its descriptor is the default export. */
import type { DriverDescriptor } from 'fieldgate/sdk';
import { addressSchema, connectionSchema } from './address.ts';
import type { ${v.Name}Address, ${v.Name}Connection } from './address.ts';
import { ${v.Name}Session } from './session.ts';

export const descriptor: DriverDescriptor<${v.Name}Connection, ${v.Name}Address> = {
  id: '${v.id}',
  version: '0.1.0',
  // The fieldgate SDK versions this plugin works with; the gateway refuses it otherwise.
  sdkVersion: '^1.0.0',
  title: '${v.Name} devices',
  connectionSchema,
  addressSchema,
  // Keep these true only for what the session implements (the conformance kit checks).
  capabilities: { read: true, write: false, subscribe: false, discover: false, batch: true },
  link: (c) => ({ key: \`${v.id}://\${c.address}:\${c.port}\`, window: 1 }),
  create: () => ({ connect: (connection, options) => ${v.Name}Session.open(connection, options) }),
};

export default descriptor;
`,
    'simulator/simulator.ts': `/** A ${v.id} device on 127.0.0.1 for tests: registers with values; unknown registers answer ERROR. */
import net from 'node:net';

export interface Simulator {
  readonly port: number;
  set(register: number, value: number): void;
  close(): Promise<void>;
}

export async function startSimulator(registers: Record<number, number>): Promise<Simulator> {
  const values = new Map(Object.entries(registers).map(([k, v]) => [Number(k), v]));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('ascii');
      for (let nl = buf.indexOf('\\n'); nl >= 0; nl = buf.indexOf('\\n')) {
        const m = /^READ (\\d+)$/.exec(buf.slice(0, nl).trim());
        buf = buf.slice(nl + 1);
        if (m === null) continue;
        const n = Number(m[1]);
        const v = values.get(n);
        s.write(v === undefined ? \`ERROR \${n} no such register\\n\` : \`VALUE \${n} \${v}\\n\`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    set: (register, value) => void values.set(register, value),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
`,
    'test/conformance.test.ts': `/** The ${v.id} driver against its simulator, through fieldgate's conformance kit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertConformant, runDriverConformance } from 'fieldgate/sdk/testing';
import descriptor from '../src/index.ts';
import { startSimulator } from '../simulator/simulator.ts';

test('the ${v.id} driver passes the conformance kit', async () => {
  const sim = await startSimulator({ 1: 21.5, 2: -7 });
  try {
    const report = await runDriverConformance(descriptor, {
      connection: { address: '127.0.0.1', port: sim.port, interval: '1s', timeout: '500ms' },
      points: [
        { id: '1', type: 'float32', address: { register: 1 } },
        { id: '2', type: 'int16', address: { register: 2 } },
      ],
      missingPoints: [{ id: '3', type: 'int16', address: { register: 99 } }],
    });
    assertConformant(report);
    assert.deepEqual(
      report.points.map((p) => (p.result?.quality === 'good' ? p.result.value : undefined)),
      [21.5, -7],
    );
  } finally {
    await sim.close();
  }
});
`,
    'test/codec.test.ts': `/** The protocol's lines, byte for byte. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeReply, encodeRead } from '../src/codec.ts';

test('READ encodes; VALUE and ERROR decode; partial lines wait', () => {
  assert.deepEqual(encodeRead(7), Buffer.from('52 45 41 44 20 37 0a'.replace(/ /g, ''), 'hex')); // "READ 7\\n"
  assert.deepEqual(decodeReply(Buffer.from('VALUE 7 -1.5\\nVAL')), { kind: 'ok', value: { kind: 'value', register: 7, value: -1.5 }, consumed: 13 });
  assert.deepEqual(decodeReply(Buffer.from('VAL')), { kind: 'incomplete' });
  assert.deepEqual(decodeReply(Buffer.from('ERROR 9 no such register\\n')), { kind: 'ok', value: { kind: 'error', register: 9, reason: 'no such register' }, consumed: 25 });
});
`,
  };
}
