/**
 * The flood of test/bacnet/cov-flood.test.ts, sent from a child process so that sending does not
 * take the event loop of the session under test. Also exports the datagram encoder.
 *
 * The parent sends `{ port, pids: [instance, processId][], total, chunk, run }`; the child sends
 * `total` datagrams to 127.0.0.1:`port` in chunks of `chunk` (each object `run` notifications in
 * a row; a notification for no subscription every 100 and a malformed one every 1000 datagrams),
 * posts `{ sent }` after each chunk and `{ done: true, sent, last: [instance, value][] }` at the end.
 */
import dgram from 'node:dgram';

/** Device instance of the notifications. */
export const FLOOD_DEVICE = 77;
/** A process id no subscription uses. */
export const UNKNOWN_PID = 0x7fff0000;
/** A COV notification whose first parameter is context tag 1, not the process id (tag 0). */
export const MALFORMED = Buffer.from('810a000a' + '0100' + '1002' + '1901', 'hex');

/**
 * An UnconfirmedCOVNotification (§13.1, §20.1.3), or a ConfirmedCOVNotification with `invokeId`
 * (§20.1.2): BVLC Original-Unicast-NPDU, NPDU v1, [0] process id (4 octets), [1] device 77,
 * [2] analog-input `instance`, [3] 60 s, [4] { present-value REAL `value`, status-flags 0000 }.
 */
export function covDatagram(pid: number, instance: number, value: number, invokeId?: number): Buffer {
  const b = Buffer.alloc(64);
  const head = invokeId === undefined ? [0x81, 0x0a, 0, 0, 0x01, 0x00, 0x10, 0x02] : [0x81, 0x0a, 0, 0, 0x01, 0x04, 0x00, 0x05, invokeId, 0x01];
  b.set(head, 0);
  let o = head.length;
  b[o++] = 0x0c;
  o = b.writeUInt32BE(pid, o);
  b[o++] = 0x1c;
  o = b.writeUInt32BE(((8 << 22) | FLOOD_DEVICE) >>> 0, o);
  b[o++] = 0x2c;
  o = b.writeUInt32BE(instance, o);
  b.set([0x39, 60, 0x4e, 0x09, 0x55, 0x2e, 0x44], o);
  o = b.writeFloatBE(value, o + 7);
  b.set([0x2f, 0x09, 0x6f, 0x2e, 0x82, 0x04, 0x00, 0x2f, 0x4f], o);
  o += 9;
  b.writeUInt16BE(o, 2);
  return b.subarray(0, o);
}

interface FloodSpec {
  readonly port: number;
  readonly pids: readonly (readonly [number, number])[];
  readonly total: number;
  readonly chunk: number;
  readonly run: number;
}

async function flood(spec: FloodSpec): Promise<void> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  // Connected: no address lookup per datagram.
  await new Promise<void>((r) => socket.connect(spec.port, '127.0.0.1', () => r()));
  const last = new Map<number, number>();
  let sent = 0;
  while (sent < spec.total) {
    let datagram: Buffer = MALFORMED;
    for (let j = 0; j < spec.chunk && sent < spec.total; j++, sent++) {
      if (sent % 1000 === 999) datagram = MALFORMED;
      else if (sent % 100 === 50) datagram = covDatagram(UNKNOWN_PID, 1, 0);
      else {
        const [instance, pid] = spec.pids[Math.floor(sent / spec.run) % spec.pids.length]!;
        const v = (last.get(instance) ?? 100) + 1;
        last.set(instance, v);
        datagram = covDatagram(pid, instance, v);
      }
      if (j < spec.chunk - 1 && sent < spec.total - 1) socket.send(datagram);
    }
    // The chunk's last datagram: wait until it went out (sends complete in order), then report.
    await new Promise((r) => socket.send(datagram, r));
    process.send!({ sent });
  }
  await new Promise<void>((r) => socket.close(() => r()));
  process.send!({ done: true, sent, last: [...last] });
}

// Run as a forked child (not when the test imports the encoder): flood once, on the first message.
if (process.argv[2] === '--flood' && process.send !== undefined) {
  process.once('message', (spec) => {
    flood(spec as FloodSpec).then(
      () => process.disconnect(),
      (e: unknown) => {
        process.stderr.write(`flood failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  });
}
