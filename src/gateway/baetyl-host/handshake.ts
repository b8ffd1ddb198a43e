/**
 * The go-plugin handshake: the first line a plugin prints on stdout,
 * `CORE-PROTOCOL-VERSION|APP-PROTOCOL-VERSION|NETWORK-TYPE|NETWORK-ADDR|PROTOCOL`, e.g.
 * `1|1|tcp|127.0.0.1:41234|grpc` (go-plugin docs/internals.md "Handshake"; client.go splits the
 * trimmed line on "|" into at most 6 parts, needs at least 4, core version 1, a known app version,
 * network tcp or unix, protocol default netrpc, part 6 = the server's AutoMTLS certificate).
 * Baetyl drivers use app protocol version 1 (`baetyl-gateway-sdk sdk/golang/interface.go`).
 */
import type { Readable } from 'node:stream';
import { DriverError } from '../../drivers/sdk/index.ts';

/** A parsed handshake line. */
export interface Handshake {
  readonly core: number;
  readonly app: number;
  readonly network: 'tcp' | 'unix';
  /** `host:port` for tcp, a socket path for unix. */
  readonly address: string;
  readonly protocol: 'grpc';
}

/** go-plugin's core protocol version; any other value means an incompatible plugin. */
export const CORE_PROTOCOL_VERSION = 1;
/** The app protocol version Baetyl's driver SDKs announce. */
export const BAETYL_APP_PROTOCOL_VERSION = 1;
/** A handshake line longer than this is not a handshake (a driver writing logs to stdout). */
export const MAX_HANDSHAKE_LINE = 4096;

/** Decoder result, as everywhere in fieldgate. */
export type HandshakeDecode =
  | { readonly kind: 'ok'; readonly value: Handshake; readonly consumed: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly error: DriverError };

const fail = (message: string): HandshakeDecode => ({ kind: 'error', error: new DriverError('Protocol', message) });

/**
 * Decodes the handshake from the start of a driver's stdout. `incomplete` until a newline arrives
 * (or an error when the text grows past {@link MAX_HANDSHAKE_LINE} without one); `consumed`
 * counts the characters up to and including the newline.
 */
export function decodeHandshake(text: string, appVersions: readonly number[] = [BAETYL_APP_PROTOCOL_VERSION]): HandshakeDecode {
  const nl = text.indexOf('\n');
  if (nl < 0) {
    return text.length > MAX_HANDSHAKE_LINE ? fail(`no handshake line: ${MAX_HANDSHAKE_LINE} characters on stdout without a newline`) : { kind: 'incomplete' };
  }
  const r = parseHandshakeLine(text.slice(0, nl), appVersions);
  return r.kind === 'ok' ? { kind: 'ok', value: r.value, consumed: nl + 1 } : r;
}

/** Parses one handshake line (without its newline). */
export function parseHandshakeLine(
  raw: string,
  appVersions: readonly number[] = [BAETYL_APP_PROTOCOL_VERSION],
): { readonly kind: 'ok'; readonly value: Handshake } | { readonly kind: 'error'; readonly error: DriverError } {
  const line = raw.trim();
  const shown = JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
  const bad = (why: string) => ({ kind: 'error' as const, error: new DriverError('Protocol', `malformed plugin handshake ${shown}: ${why}; expected e.g. "1|1|tcp|127.0.0.1:1234|grpc"`) });
  const parts = splitN(line, '|', 6);
  if (parts.length < 4) return bad(`${parts.length} field(s), need CORE|APP|NETWORK|ADDRESS|PROTOCOL`);
  const [coreS, appS, network, address, protocol, cert] = parts as [string, string, string, string, string | undefined, string | undefined];
  if (!/^\d+$/.test(coreS)) return bad(`core protocol version ${JSON.stringify(coreS)} is not a number`);
  const core = Number(coreS);
  if (core !== CORE_PROTOCOL_VERSION) return bad(`core protocol version ${core}, this host speaks ${CORE_PROTOCOL_VERSION}`);
  if (!/^\d+$/.test(appS)) return bad(`app protocol version ${JSON.stringify(appS)} is not a number`);
  const app = Number(appS);
  if (!appVersions.includes(app)) return bad(`app protocol version ${app}, this host accepts ${appVersions.join(', ')}`);
  if (network === 'tcp') {
    const m = /^(.+):(\d{1,5})$/.exec(address);
    const port = m ? Number(m[2]) : 0;
    if (m === null || port < 1 || port > 65535) return bad(`tcp address ${JSON.stringify(address)} is not host:port`);
  } else if (network === 'unix') {
    if (address.length === 0) return bad('empty unix socket path');
  } else {
    return bad(`network type ${JSON.stringify(network)}, expected tcp or unix`);
  }
  // go-plugin defaults a missing protocol to net/rpc, which only Go hosts can speak.
  if (protocol === undefined || protocol === '') return bad('no protocol field (net/rpc plugin); Baetyl drivers speak grpc');
  if (protocol !== 'grpc') return bad(`protocol ${JSON.stringify(protocol)}, expected grpc`);
  // A certificate (go-plugin checks len > 50) means the plugin switched on AutoMTLS; we never ask for it.
  if (cert !== undefined && cert.length > 50) return bad('the plugin sent an AutoMTLS certificate; this host does not set PLUGIN_CLIENT_CERT and cannot use it');
  return { kind: 'ok', value: { core, app, network, address, protocol: 'grpc' } };
}

/** Go's strings.SplitN: at most `n` parts, the last holding the rest. */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** What {@link readHandshake} needs of a child process. */
export interface HandshakeSource {
  readonly stdout: Readable;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Recent stderr, for the error message when the process dies early. */
  readonly stderrTail?: () => string;
}

/**
 * Waits for the handshake line. Rejects with a `Protocol` DriverError for a malformed line, a
 * `Timeout` one when no line comes within `timeoutMs`, and an `Offline` one when the process
 * exits first. Resolves with the handshake and whatever followed the line on stdout (to be logged,
 * never parsed). Stops listening to stdout either way.
 */
export function readHandshake(src: HandshakeSource, timeoutMs: number, appVersions?: readonly number[]): Promise<{ handshake: Handshake; rest: string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      src.stdout.off('data', onData);
      fn();
    };
    const onData = (chunk: Buffer | string) => {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const r = decodeHandshake(text, appVersions);
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') finish(() => reject(r.error));
      else finish(() => resolve({ handshake: r.value, rest: text.slice(r.consumed) }));
    };
    const timer = setTimeout(() => {
      finish(() => reject(new DriverError('Timeout', `the driver printed no handshake line within ${timeoutMs} ms${text ? ` (stdout so far: ${JSON.stringify(text.slice(0, 200))})` : ''}`)));
    }, timeoutMs);
    src.stdout.on('data', onData);
    src.exited.then(({ code, signal }) => {
      const tail = src.stderrTail?.().trim();
      finish(() =>
        reject(
          new DriverError('Offline', `the driver exited (${signal ?? `code ${code}`}) before its handshake line${tail ? `; stderr: ${tail}` : ''}`, {
            detail: { ...(code !== null ? { exitCode: code } : {}), ...(signal !== null ? { signal } : {}) },
          }),
        ),
      );
    }, () => undefined);
  });
}
