/**
 * A KV/1 instrument on 127.0.0.1 for tests and demos: keys with values (some read-only), GET,
 * SET, SUB/UNSUB with EVT pushes on change, and faults (stay silent, drop connections).
 */
import net from 'node:net';
import { decodeRequest, encodeReply } from '../src/codec.ts';
import type { Reply } from '../src/codec.ts';

export interface KvKey {
  value: string;
  /** SET refused with `read-only` unless true. */
  writable?: boolean;
}

export interface KvSimulatorOptions {
  readonly host?: string;
  /** 0 (default) = a free port. */
  readonly port?: number;
  readonly keys: Record<string, KvKey>;
}

export interface KvSimulator {
  readonly port: number;
  readonly host: string;
  /** Requests answered so far. */
  readonly served: number;
  /** Open client connections. */
  readonly connections: number;
  get(key: string): string | undefined;
  /** Changes a value as the instrument would (pushes EVT to subscribers). */
  set(key: string, value: string | number | boolean): void;
  /** While true, requests are read but never answered. */
  silent: boolean;
  /** Closes every client connection (the instrument rebooted). */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startKvSimulator(opts: KvSimulatorOptions): Promise<KvSimulator> {
  const keys = new Map(Object.entries(opts.keys).map(([k, v]) => [k, { ...v }]));
  const subs = new Map<net.Socket, Set<string>>();
  let served = 0;
  const text = (v: string | number | boolean): string => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

  const push = (key: string): void => {
    const k = keys.get(key);
    if (k === undefined) return;
    for (const [sock, set] of subs) if (set.has(key) && !sock.destroyed) sock.write(encodeReply({ type: 'EVT', key, value: k.value }));
  };

  const answer = (sock: net.Socket, line: Buffer): Buffer | undefined => {
    const d = decodeRequest(line);
    if (d.kind !== 'ok') return d.kind === 'error' ? encodeReply({ type: 'ERR', key: '-', reason: 'bad-request' }) : undefined;
    const r = d.value;
    const k = keys.get(r.key);
    let reply: Reply;
    if (k === undefined) reply = { type: 'ERR', key: r.key, reason: 'unknown' };
    else if (r.op === 'SET') {
      if (!k.writable) reply = { type: 'ERR', key: r.key, reason: 'read-only' };
      else {
        const changed = k.value !== r.value;
        k.value = r.value;
        reply = { type: 'OK', key: r.key, value: k.value };
        if (changed) setImmediate(() => push(r.key));
      }
    } else {
      if (r.op === 'SUB') subs.get(sock)?.add(r.key);
      if (r.op === 'UNSUB') subs.get(sock)?.delete(r.key);
      reply = { type: 'OK', key: r.key, value: k.value };
    }
    served++;
    return encodeReply(reply);
  };

  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    subs.set(sock, new Set());
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // Answer every complete line of this chunk in one write, as a real instrument's UART buffer would.
      const replies: Buffer[] = [];
      for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
        const line = buf.subarray(0, nl + 1);
        buf = buf.subarray(nl + 1);
        const r = sim.silent ? undefined : answer(sock, line);
        if (r) replies.push(r);
      }
      if (replies.length > 0) sock.write(Buffer.concat(replies));
    });
    sock.on('error', () => undefined);
    sock.on('close', () => subs.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as net.AddressInfo;

  const sim: KvSimulator = {
    port: addr.port,
    host: addr.address,
    get served() {
      return served;
    },
    get connections() {
      return subs.size;
    },
    get: (key) => keys.get(key)?.value,
    set(key, value) {
      const k = keys.get(key);
      if (k === undefined) keys.set(key, { value: text(value) });
      else if (k.value !== text(value)) {
        k.value = text(value);
        push(key);
      }
    },
    silent: false,
    dropConnections() {
      for (const s of subs.keys()) s.destroy();
    },
    async close() {
      for (const s of subs.keys()) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return sim;
}
