/**
 * Free ports on loopback, chosen at run time (tests run in parallel processes): a TCP port by
 * listening on port 0, and an even base for a block of UDP ports (the RTP range of
 * rtsp-server-perl, which takes two ports per stream set up) by binding every port of the block.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port nobody listened on a moment ago (released before returning). */
export function freeTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/** An even port in [20000, 60000) whose next `count` UDP ports are free on `host`. */
export async function freeUdpBlock(host: string, count: number, attempts = 20): Promise<number> {
  for (let a = 0; a < attempts; a++) {
    const base = 20000 + 2 * Math.floor(Math.random() * ((40000 - count) / 2));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await udpFree(host, p);
    if (ok) return base;
  }
  throw new Error(`no free block of ${count} UDP ports on ${host} after ${attempts} attempts`);
}
