/**
 * The camera's HTTP side: SOAP POSTs to `/onvif/...` dispatched by operation (namespace + name)
 * through the auth gate, and GETs of `/snapshot/<profile>.jpg`. Nothing a client sends makes it
 * throw: bad XML is a `ter:WellFormed` fault, an unknown operation `ter:ActionNotSupported`.
 *
 * Authentication (ONVIF Core §5.9): a valid HTTP Digest header or a valid WS-Security
 * UsernameToken lets a request through. No credentials at all, or a wrong Digest, get HTTP 401
 * with a Digest challenge (so digest-only clients can authenticate) and a `ter:NotAuthorized`
 * fault; a wrong UsernameToken gets HTTP 400 with that fault (SOAP 1.2 Sender fault).
 * `GetSystemDateAndTime` is always answered, as clients need the camera clock first.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { checkUsernameToken } from './auth.ts';
import type { Credentials, HttpAuth } from './auth.ts';
import { opKey, PATHS } from './context.ts';
import type { CameraContext, ServiceTable } from './context.ts';
import { envelope, FAULTS, faultStatus, faultXml, NS, parseSoap, SoapFault } from './soap.ts';
import type { Fault } from './soap.ts';

const MAX_BODY = 1 << 20;
const SOAP_TYPE = 'application/soap+xml; charset=utf-8';

export interface CameraHttpOptions {
  readonly ctx: CameraContext;
  readonly creds: Credentials | undefined;
  readonly auth: HttpAuth;
  readonly services: ServiceTable;
  /** The next frame for a profile token (undefined: no such profile). */
  readonly snapshot: (profileToken: string) => Buffer | undefined;
}

export interface CameraHttp {
  readonly server: Server;
  /** Ends pending long polls and drops every connection (pause/stop). */
  abortAll(): void;
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': SOAP_TYPE, 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function sendFault(res: ServerResponse, f: Fault, headers: Record<string, string | string[]> = {}): void {
  send(res, faultStatus(f), faultXml(f), headers);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_BODY) chunks.push(d);
    });
    req.once('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => resolve(undefined));
  });
}

export function createCameraHttp(o: CameraHttpOptions): CameraHttp {
  const inflight = new Set<AbortController>();

  const handleSnapshot = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, '', { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
    if (o.creds !== undefined) {
      const r = o.auth.check(req.headers.authorization, req.method, o.creds, true);
      if (r !== 'ok') return send(res, 401, 'Unauthorized\n', { 'Content-Type': 'text/plain', 'WWW-Authenticate': o.auth.challenges({ stale: r === 'stale', basic: true }) });
    }
    const m = /^([^/]+)\.jpg$/.exec(path.slice(PATHS.snapshot.length));
    const frame = m === null ? undefined : o.snapshot(decodeURIComponent(m[1]!));
    if (frame === undefined) return send(res, 404, 'no such profile\n', { 'Content-Type': 'text/plain' });
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': String(frame.length), 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : frame);
  };

  const handleSoap = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (req.method !== 'POST') return send(res, 405, '', { Allow: 'POST', 'Content-Type': 'text/plain' });
    const text = await readBody(req);
    if (text === undefined) return sendFault(res, { code: 'env:Sender', subcodes: ['ter:WellFormed'], reason: `request larger than ${MAX_BODY} bytes`, status: 413 });
    const parsed = parseSoap(text);
    if (parsed.kind === 'error') return sendFault(res, FAULTS.wellFormed(parsed.error));
    const { op, header } = parsed.value;
    const open = op.ns === NS.tds && op.name === 'GetSystemDateAndTime';
    if (o.creds !== undefined && !open) {
      const d = o.auth.check(req.headers.authorization, 'POST', o.creds, false);
      if (d === 'stale') return sendFault(res, FAULTS.notAuthorized(401), { 'WWW-Authenticate': o.auth.challenges({ stale: true }) });
      if (d === 'bad') return sendFault(res, FAULTS.notAuthorized(401), { 'WWW-Authenticate': o.auth.challenges() });
      if (d === 'absent') {
        const ws = checkUsernameToken(header, o.creds, o.ctx.now());
        if (ws === 'bad') return sendFault(res, FAULTS.notAuthorized(400));
        if (ws !== 'ok') return sendFault(res, FAULTS.notAuthorized(401), { 'WWW-Authenticate': o.auth.challenges() });
      }
    }
    const handler = op.ns === undefined ? undefined : o.services.get(opKey(op.ns, op.name));
    if (handler === undefined) return sendFault(res, FAULTS.actionNotSupported(`${op.ns ?? ''} ${op.name}`));
    const ac = new AbortController();
    inflight.add(ac);
    res.once('close', () => ac.abort());
    try {
      const body = await handler({ op, header, path, signal: ac.signal }, o.ctx);
      send(res, 200, envelope(body));
    } catch (e) {
      if (e instanceof SoapFault) sendFault(res, e.fault);
      else sendFault(res, { code: 'env:Receiver', subcodes: ['ter:Action'], reason: e instanceof Error ? e.message : String(e) });
    } finally {
      inflight.delete(ac);
    }
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path.startsWith(PATHS.snapshot)) return handleSnapshot(req, res, path);
    if (path.startsWith('/onvif/')) {
      handleSoap(req, res, path).catch(() => sendFault(res, { code: 'env:Receiver', subcodes: [], reason: 'internal error' }));
      return;
    }
    send(res, 404, 'not found\n', { 'Content-Type': 'text/plain' });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  return {
    server,
    abortAll() {
      for (const ac of inflight) ac.abort();
      server.closeAllConnections();
    },
  };
}
