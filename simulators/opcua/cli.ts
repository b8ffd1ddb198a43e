/**
 * The OPC UA part of `fieldgate simulate`: {@link startOpcuaFromConfig}, which simulators/index.ts
 * calls for the OPC UA devices of a configuration. One server per endpoint port (from each
 * device's `accessConfig.opcua.endpoint`), serving the devices on it, with:
 * - the users the devices log in with (`auth.username/password`), anonymous access as well when
 *   a device on that endpoint has no user;
 * - every security mode (None, Sign, SignAndEncrypt with Basic256Sha256 and
 *   Aes128_Sha256_RsaOaep), so each device's `security` finds its endpoint;
 * - its PKI (server certificate) under `<config dir>/data/simulators/opcua-<port>`, kept across
 *   runs, so a gateway that pinned the certificate on first use still trusts it next time.
 */
import path from 'node:path';
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import type { GeneratorSpecInput } from '../common/generators.ts';
import { startOpcuaSimulator } from './simulator.ts';
import type { OpcuaSimulator } from './simulator.ts';

/** What {@link startOpcuaFromConfig} needs of simulators/index.ts's context. */
export interface OpcuaFromConfigContext {
  readonly seed: number;
  readonly tickMs?: number;
  readonly generators: Readonly<Record<string, Readonly<Record<string, GeneratorSpecInput>>>>;
  readonly baseDir: string;
  readonly log: (line: string) => void;
}

/** The servers started for a configuration. */
export interface OpcuaServers {
  readonly servers: readonly OpcuaSimulator[];
  /** The server that serves `device`; throws when none does. */
  server(device: string): OpcuaSimulator;
  stop(): Promise<void>;
}

interface Access {
  endpoint: string;
  auth?: { username?: string; password?: string };
}

/** `host` and `port` of an `opc.tcp://host:port[/path]` endpoint. */
export function endpointHostPort(endpoint: string): { host: string; port: number } {
  const m = /^opc\.tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?/.exec(endpoint);
  if (m === null) throw new Error(`not an opc.tcp endpoint: ${endpoint}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] !== undefined ? Number(m[2]) : 4840 };
}

/** Starts one server per endpoint port for `devices`; stops what started when one fails. */
export async function startOpcuaFromConfig(devices: readonly CompiledDevice[], ctx: OpcuaFromConfigContext): Promise<OpcuaServers> {
  const byPort = new Map<number, { host: string; devices: CompiledDevice[] }>();
  for (const d of devices) {
    const { host, port } = endpointHostPort((d.connection as unknown as Access).endpoint);
    const g = byPort.get(port) ?? { host, devices: [] };
    g.devices.push(d);
    byPort.set(port, g);
  }
  const servers: OpcuaSimulator[] = [];
  const owner = new Map<string, OpcuaSimulator>();
  try {
    for (const [port, g] of byPort) {
      const users: Record<string, string> = {};
      let anonymous = false;
      for (const d of g.devices) {
        const auth = (d.connection as unknown as Access).auth;
        if (auth?.username !== undefined) users[auth.username] = auth.password ?? '';
        else anonymous = true;
      }
      const hasUsers = Object.keys(users).length > 0;
      // The simulator binds loopback only, whatever host the endpoint names.
      const host = g.host === 'localhost' || g.host.startsWith('127.') ? g.host.replace('localhost', '127.0.0.1') : '127.0.0.1';
      const sim = await startOpcuaSimulator({
        devices: g.devices,
        port,
        host,
        seed: ctx.seed,
        ...(ctx.tickMs !== undefined ? { tickMs: ctx.tickMs } : {}),
        generators: ctx.generators,
        baseDir: ctx.baseDir,
        pkiDir: path.join(ctx.baseDir, 'data', 'simulators', `opcua-${port}`),
        ...(hasUsers ? { users, allowAnonymous: anonymous } : {}),
      });
      servers.push(sim);
      for (const d of g.devices) owner.set(d.name, sim);
      ctx.log(`opcua ${sim.endpoint}: ${g.devices.map((d) => `${d.name} (${d.points.length} variables)`).join(', ')}${hasUsers ? `; users ${Object.keys(users).join(', ')}${anonymous ? ' and anonymous' : ''}` : ''}`);
      for (const d of g.devices) for (const w of sim.device(d.name).warnings) ctx.log(`warning: ${d.name}: ${w}`);
    }
  } catch (e) {
    await Promise.allSettled(servers.map((s) => s.stop()));
    throw e;
  }
  return {
    servers,
    server(device) {
      const s = owner.get(device);
      if (s === undefined) throw new Error(`no OPC UA server serves device "${device}"`);
      return s;
    },
    stop: async () => {
      await Promise.allSettled(servers.map((s) => s.stop()));
    },
  };
}
