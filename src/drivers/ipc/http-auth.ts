/**
 * HTTP GET with the camera's credentials, for ONVIF snapshot URIs: Digest (RFC 7616, MD5 and
 * SHA-256, qop=auth) or Basic (RFC 7617), whichever the 401 challenge asks for. The header
 * computation is pure ({@link digestAuthorization}, tested with the RFCs' examples).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { DriverError } from '../sdk/index.ts';

/** A parsed `WWW-Authenticate: Digest …` challenge. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly qop?: string;
  readonly opaque?: string;
  readonly algorithm?: string;
}

/** Parses the parameters of one `Digest` challenge (quoted or token values). */
export function parseDigestChallenge(header: string): DigestChallenge | undefined {
  const i = header.search(/digest\s/i);
  if (i < 0) return undefined;
  const params: Record<string, string> = {};
  const re = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let m: RegExpExecArray | null;
  const rest = header.slice(i + 7);
  while ((m = re.exec(rest)) !== null) params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  if (params.realm === undefined || params.nonce === undefined) return undefined;
  return {
    realm: params.realm,
    nonce: params.nonce,
    ...(params.qop !== undefined ? { qop: params.qop } : {}),
    ...(params.opaque !== undefined ? { opaque: params.opaque } : {}),
    ...(params.algorithm !== undefined ? { algorithm: params.algorithm } : {}),
  };
}

/** The `Authorization: Digest …` value for one request (RFC 7616 §3.4.1). */
export function digestAuthorization(
  c: DigestChallenge,
  req: { username: string; password: string; method: string; uri: string; cnonce: string; nc: number },
): string {
  const alg = (c.algorithm ?? 'MD5').toUpperCase();
  const hashName = alg.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (s: string) => createHash(hashName).update(s, 'utf8').digest('hex');
  const nc = req.nc.toString(16).padStart(8, '0');
  let ha1 = h(`${req.username}:${c.realm}:${req.password}`);
  if (alg.endsWith('-SESS')) ha1 = h(`${ha1}:${c.nonce}:${req.cnonce}`);
  const ha2 = h(`${req.method}:${req.uri}`);
  const qop = c.qop === undefined ? undefined : c.qop.split(',').map((q) => q.trim()).includes('auth') ? 'auth' : undefined;
  const response = qop === undefined ? h(`${ha1}:${c.nonce}:${ha2}`) : h(`${ha1}:${c.nonce}:${nc}:${req.cnonce}:${qop}:${ha2}`);
  const parts = [
    `username="${req.username}"`,
    `realm="${c.realm}"`,
    `nonce="${c.nonce}"`,
    `uri="${req.uri}"`,
    ...(c.algorithm !== undefined ? [`algorithm=${c.algorithm}`] : []),
    `response="${response}"`,
    ...(c.opaque !== undefined ? [`opaque="${c.opaque}"`] : []),
    ...(qop !== undefined ? [`qop=${qop}`, `nc=${nc}`, `cnonce="${req.cnonce}"`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function get(url: URL, headers: Record<string, string>, timeout: number, maxBytes: number, signal?: AbortSignal): Promise<Reply> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers, timeout, ...(signal ? { signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (b: Buffer) => {
        n += b.length;
        if (n > maxBytes) req.destroy(new DriverError('Protocol', `the snapshot is larger than ${maxBytes} bytes`));
        else chunks.push(b);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new DriverError('Timeout', `no answer from ${url.host} within ${timeout} ms`)));
    req.on('error', (e) => reject(e instanceof DriverError ? e : new DriverError('Offline', `GET ${url.host}${url.pathname}: ${e.message}`, { cause: e })));
  });
}

/**
 * GETs `uri` (credentials in the URI or given), answering one Digest or Basic challenge. Rejects
 * with `Config` (detail reason Unauthorized) when the camera refuses the credentials.
 */
export async function fetchWithAuth(
  uri: string,
  opts: { username?: string; password?: string; timeout: number; maxBytes?: number; signal?: AbortSignal },
): Promise<Buffer> {
  const url = new URL(uri);
  const username = opts.username ?? decodeURIComponent(url.username);
  const password = opts.password ?? decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const max = opts.maxBytes ?? 10 * 1024 * 1024;
  let r = await get(url, {}, opts.timeout, max, opts.signal);
  if (r.status === 401 && username !== '') {
    const raw = r.headers['www-authenticate'];
    const challenges = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((h) => h.split(/,(?=\s*(?:Digest|Basic)\s)/i));
    const digest = challenges.map(parseDigestChallenge).find((c) => c !== undefined);
    const path = `${url.pathname}${url.search}`;
    const auth =
      digest !== undefined
        ? digestAuthorization(digest, { username, password, method: 'GET', uri: path, cnonce: randomBytes(8).toString('hex'), nc: 1 })
        : challenges.some((c) => /^\s*basic/i.test(c))
          ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
          : undefined;
    if (auth !== undefined) r = await get(url, { Authorization: auth }, opts.timeout, max, opts.signal);
  }
  if (r.status === 401 || r.status === 403) {
    throw new DriverError('Config', `the camera refused the credentials for ${url.host}${url.pathname} (HTTP ${r.status}): check username/password`, { detail: { reason: 'Unauthorized', status: r.status } });
  }
  if (r.status !== 200) throw new DriverError('Exception', `GET ${url.host}${url.pathname}: HTTP ${r.status}`, { detail: { status: r.status } });
  return r.body;
}
