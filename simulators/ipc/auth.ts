/**
 * Authentication of the camera simulator, both ways ONVIF allows (ONVIF Core §5.9):
 * WS-Security UsernameToken (OASIS UsernameToken Profile 1.0 §3.1: PasswordDigest =
 * Base64(SHA-1(nonce + created + password)), nonce raw bytes) and HTTP Digest (RFC 7616, MD5,
 * qop=auth), plus HTTP Basic for the snapshot endpoint. Nonces for HTTP Digest are stateless:
 * a timestamp and its HMAC under a per-process secret, valid for {@link NONCE_TTL_MS}.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NS } from './soap.ts';
import { child } from './xml.ts';
import type { XmlElement } from './xml.ts';

/** Configured credentials; both undefined = open camera. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export type AuthResult = 'absent' | 'ok' | 'bad' | 'stale';

/** How far `Created` may be from the camera clock (replay window). */
export const CREATED_WINDOW_MS = 5 * 60_000;
export const NONCE_TTL_MS = 5 * 60_000;

const PASSWORD_DIGEST = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const PASSWORD_TEXT = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

/** Base64(SHA-1(nonce ‖ created ‖ password)), UsernameToken Profile 1.0 §3.1. */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks the `wsse:Security/UsernameToken` of a SOAP header: `absent` when there is none,
 * `ok` when user and digest (or plain-text password) match and `Created` is within
 * {@link CREATED_WINDOW_MS} of `now`, else `bad`.
 */
export function checkUsernameToken(header: XmlElement | undefined, creds: Credentials, now: number): AuthResult {
  const sec = header?.children.find((c) => c.name === 'Security' && c.ns === NS.wsse);
  const token = child(sec, 'UsernameToken');
  if (token === undefined) return 'absent';
  const user = child(token, 'Username')?.text.trim();
  const pw = child(token, 'Password');
  if (user === undefined || pw === undefined || !same(user, creds.username)) return 'bad';
  const type = pw.attrs['Type'] ?? PASSWORD_TEXT;
  if (type === PASSWORD_TEXT) return same(pw.text, creds.password) ? 'ok' : 'bad';
  if (type !== PASSWORD_DIGEST) return 'bad';
  const nonceB64 = child(token, 'Nonce')?.text.trim();
  const created = child(token, 'Created')?.text.trim();
  if (nonceB64 === undefined || created === undefined) return 'bad';
  const t = Date.parse(created);
  if (!Number.isFinite(t) || Math.abs(t - now) > CREATED_WINDOW_MS) return 'bad';
  return same(passwordDigest(Buffer.from(nonceB64, 'base64'), created, creds.password), pw.text.trim()) ? 'ok' : 'bad';
}

/** Splits `k=v, k="v, w"` auth parameters (RFC 7235 §2.1). */
export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && m[0] !== '') out[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  return out;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** HTTP Digest (RFC 7616 §3.4, MD5, qop=auth) and Basic (RFC 7617) checks for one realm. */
export class HttpAuth {
  readonly #secret = randomBytes(16);
  constructor(
    readonly realm: string,
    private readonly now: () => number = Date.now,
  ) {}

  #nonce(ts: number): string {
    return Buffer.from(`${ts}:${createHmac('sha256', this.#secret).update(String(ts)).digest('hex').slice(0, 32)}`).toString('base64');
  }

  /** The `WWW-Authenticate` values to send with a 401 (Digest first, then Basic when allowed). */
  challenges(opts: { stale?: boolean; basic?: boolean } = {}): string[] {
    const d = `Digest realm="${this.realm}", qop="auth", nonce="${this.#nonce(this.now())}", algorithm=MD5${opts.stale ? ', stale=true' : ''}`;
    return opts.basic ? [d, `Basic realm="${this.realm}"`] : [d];
  }

  /** Checks an `Authorization` header for `method`; Basic only when `allowBasic`. */
  check(authorization: string | undefined, method: string, creds: Credentials, allowBasic: boolean): AuthResult {
    if (authorization === undefined) return 'absent';
    const sp = authorization.indexOf(' ');
    const scheme = (sp < 0 ? authorization : authorization.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : authorization.slice(sp + 1);
    if (scheme === 'basic') {
      if (!allowBasic) return 'bad';
      const dec = Buffer.from(rest.trim(), 'base64').toString('utf8');
      const colon = dec.indexOf(':');
      return colon >= 0 && same(dec.slice(0, colon), creds.username) && same(dec.slice(colon + 1), creds.password) ? 'ok' : 'bad';
    }
    if (scheme !== 'digest') return 'bad';
    const p = parseAuthParams(rest);
    const { username, realm, nonce, uri, response } = p;
    if (username === undefined || nonce === undefined || uri === undefined || response === undefined || realm !== this.realm) return 'bad';
    if (p['algorithm'] !== undefined && p['algorithm'].toUpperCase() !== 'MD5') return 'bad';
    const ts = Number(Buffer.from(nonce, 'base64').toString('utf8').split(':')[0]);
    if (!Number.isFinite(ts) || !same(this.#nonce(ts), nonce)) return 'bad';
    if (!same(username, creds.username)) return 'bad';
    const ha1 = md5(`${username}:${this.realm}:${creds.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const qop = p['qop'];
    if (qop !== undefined && qop !== 'auth') return 'bad';
    const expected = qop === 'auth' ? md5(`${ha1}:${nonce}:${p['nc'] ?? ''}:${p['cnonce'] ?? ''}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    if (!same(expected, response.toLowerCase())) return 'bad';
    // A correct answer to an old challenge: ask again with stale=true (RFC 7616 §3.3).
    return this.now() - ts > NONCE_TTL_MS ? 'stale' : 'ok';
  }
}
