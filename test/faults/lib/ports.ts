/**
 * Free loopback ports for the scenario's simulators, probed at run time.
 *
 * A scenario picks up to ~80 ports, writes them into the configuration, and its simulators bind
 * them seconds later. Ports from `listen(0)` come from the kernel's ephemeral range, which every
 * outgoing connection on the machine (the gateway's own clients, other tests) also draws from, so
 * some are taken again by the time they are bound. These are probed below that range instead.
 */
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';

export { freePort } from '../../e2e/harness.ts';

/** [low, high) to probe: the 12,000 ports below the ephemeral range (Linux default 32768). */
function probeRange(): [number, number] {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the default
  }
  const high = Math.max(1025 + 1000, low);
  return [Math.max(1025, high - 12_000), high];
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** `n` distinct ports of 127.0.0.1 that are free now (TCP, or UDP with `udp`). */
export async function freePorts(n: number, udp = false): Promise<number[]> {
  const [low, high] = probeRange();
  const out = new Set<number>();
  for (let i = 0; out.size < n && i < n * 20; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!out.has(port) && (await (udp ? udpFree(port) : tcpFree(port)))) out.add(port);
  }
  if (out.size < n) throw new Error(`only ${out.size} of ${n} free ports found in ${low}-${high}`);
  return [...out];
}
