/**
 * The gateway as the fault scenarios run it: started in this process like the e2e tests do
 * (test/e2e/harness.ts), with a log that keeps every line and its time (the link's
 * `reconnect scheduled` lines tell which backoff was in effect), a watch on unhandled
 * rejections and uncaught exceptions, and a health probe through the REST API.
 */
import { cpSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRegistry } from '../../../src/gateway/drivers/registry.ts';
import { startGateway } from '../../../src/gateway/runtime/gateway.ts';
import type { Gateway } from '../../../src/gateway/runtime/gateway.ts';
import type { Logger } from '../../../src/drivers/sdk/index.ts';
import { load } from '../../e2e/harness.ts';

/** One log line with the time it was written. */
export interface TimedLine {
  readonly at: number;
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

function timedLogger(lines: TimedLine[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push({ at: Date.now(), level, obj: typeof obj === 'string' ? { ...bindings } : { ...bindings, ...(obj as Record<string, unknown>) }, msg: typeof obj === 'string' ? obj : msg });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => timedLogger(lines, { ...bindings, ...b }) };
}

/**
 * The OPC UA driver's client certificate, kept across runs: making it takes seconds of RSA key
 * generation that block the gateway's event loop on the first connect (every device stalls), which
 * a deployed gateway pays once per data directory. The scenarios measure faults, not that.
 */
const CLIENT_PKI_CACHE = path.join(os.tmpdir(), 'fieldgate-faults-opcua-client-pki');
const clientPki = (dataDir: string, instance: string) => path.join(dataDir, 'drivers', instance, 'opcua', 'pki');

/** Saves the client PKI of the `instance` (OPC UA) of a finished run for the next one. */
export function keepOpcuaClientPki(dataDir: string, instance = 'opcua'): void {
  const from = clientPki(dataDir, instance);
  if (!existsSync(CLIENT_PKI_CACHE) && existsSync(path.join(from, 'own', 'private', 'private_key.pem'))) cpSync(from, CLIENT_PKI_CACHE, { recursive: true });
}

export async function startFaultGateway(dir: string): Promise<{ gateway: Gateway; lines: TimedLine[] }> {
  const { config, instances } = await load(dir);
  for (const inst of instances) if (inst.driver === 'opcua' && existsSync(CLIENT_PKI_CACHE)) cpSync(CLIENT_PKI_CACHE, clientPki(config.dataDir, inst.name), { recursive: true });
  const lines: TimedLine[] = [];
  const gateway = await startGateway({ config, instances, registry: createRegistry(), log: timedLogger(lines) });
  return { gateway, lines };
}

/** True when the gateway's REST API answers /health with 200 within 5 s. */
export async function gatewayAnswers(gateway: Gateway): Promise<boolean> {
  const url = gateway.api?.url;
  if (url === undefined) return false;
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/** Collects unhandled rejections and uncaught exceptions of this process until `dispose`. */
export function watchProcess(): { readonly errors: string[]; dispose(): void } {
  const errors: string[] = [];
  const onRejection = (reason: unknown) => errors.push(`unhandledRejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  const onException = (err: Error) => errors.push(`uncaughtException: ${err.stack ?? err.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    errors,
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/**
 * The nominal backoff (before jitter) of the last reconnect the link of `linkKey` scheduled in
 * [from, to]: DEFAULT_BACKOFF (src/gateway/runtime/backoff.ts) starts at 500 ms and doubles per
 * attempt up to 30 s; the attempt count restarts when the link is online. 0 when none was scheduled.
 */
export function backoffInEffect(lines: readonly TimedLine[], linkKey: string, from: number, to: number): { attempts: number; nominalMs: number } {
  const scheduled = lines.filter((l) => l.msg === 'reconnect scheduled' && l.obj.link === linkKey && l.at >= from && l.at <= to);
  const attempts = scheduled.length;
  return { attempts, nominalMs: attempts === 0 ? 0 : Math.min(30_000, 500 * 2 ** (attempts - 1)) };
}

