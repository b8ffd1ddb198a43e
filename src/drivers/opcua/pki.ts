/**
 * Certificates: the gateway's own application certificate (created once under the data dir and
 * reused), the trust decision on each server certificate, and the user identity of a session.
 *
 * node-opcua verifies a server certificate through its certificate manager's
 * `checkCertificate`. We create one manager per connect (pointing at the same PKI folder) and
 * replace that method on the instance with the configured policy for that endpoint, so that two
 * links connecting at once cannot mix up their decisions:
 * - `tofu`: the first certificate an endpoint presents is pinned (logged with its SHA-1
 *   thumbprint) in `<dataDir>/opcua/pinned.json`; a different one later is rejected.
 * - `list`: only certificates whose thumbprint is listed (or whose file is listed) are accepted.
 * A rejection is never silent: connect fails with a `Config` error naming both thumbprints.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DriverError } from '../sdk/index.ts';
import type { Logger } from '../sdk/index.ts';
import type { OpcuaConnection } from './address.ts';
import { loadCertificateManager, loadOpcua } from './load.ts';
import type { OpcuaModule } from './load.ts';
import type { UserIdentityInfo } from 'node-opcua-client';

type CertificateManager = InstanceType<Awaited<ReturnType<typeof loadCertificateManager>>['OPCUACertificateManager']>;
type UserIdentity = UserIdentityInfo;

/** Folders and files of the driver's PKI under its data dir. */
export interface PkiPaths {
  readonly root: string;
  readonly pinned: string;
  readonly certificateFile: string;
  readonly privateKeyFile: string;
}

/** Where the PKI of a driver instance lives. */
export function pkiPaths(dataDir: string): PkiPaths {
  const root = path.join(dataDir, 'opcua', 'pki');
  return {
    root,
    pinned: path.join(dataDir, 'opcua', 'pinned.json'),
    certificateFile: path.join(root, 'own', 'certs', 'client_certificate.pem'),
    privateKeyFile: path.join(root, 'own', 'private', 'private_key.pem'),
  };
}

/** The first DER element of a buffer (a server may send its certificate chain). */
export function firstDer(buf: Buffer): Buffer {
  if (buf.length < 2 || buf[0] !== 0x30) return buf;
  const l = buf[1]!;
  if (l < 0x80) return buf.subarray(0, 2 + l);
  const n = l & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + buf[2 + i]!;
  return buf.subarray(0, Math.min(buf.length, 2 + n + len));
}

/** SHA-1 thumbprint (lower-case hex) of a DER certificate, the form OPC UA tools show. */
export function thumbprint(der: Buffer): string {
  return createHash('sha1').update(firstDer(der)).digest('hex');
}

/** PEM text or DER bytes to DER. */
export function toDer(data: Buffer | string): Buffer {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (m) return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  return typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
}

/** Reads PEM text given inline, or the file it names. */
export function pemOrFile(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

/** The thumbprints a `list` policy accepts: hex thumbprints as given, files hashed. */
export function trustedThumbprints(entries: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const e of entries) {
    const hex = e.replace(/:/g, '').toLowerCase();
    if (/^[0-9a-f]{40}$/.test(hex)) out.add(hex);
    else {
      try {
        out.add(thumbprint(toDer(readFileSync(e))));
      } catch (err) {
        throw new DriverError('Config', `trust.certificates: cannot read certificate file ${e}: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

function readPins(file: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

function writePins(file: string, pins: Record<string, string>): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(pins, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The verdict on one server certificate, kept so connect can explain a rejection. */
export interface TrustVerdict {
  trusted: boolean;
  message?: string;
  detail?: Record<string, string>;
}

/**
 * Decides on a server certificate for `endpoint` by the connection's trust policy. Pins on first
 * use under `tofu` (and logs that it did).
 */
export function decideTrust(endpoint: string, der: Buffer, connection: OpcuaConnection, paths: PkiPaths, log: Logger): TrustVerdict {
  const seen = thumbprint(der);
  if (connection.trust.policy === 'list') {
    const ok = trustedThumbprints(connection.trust.certificates).has(seen);
    return ok
      ? { trusted: true }
      : {
          trusted: false,
          message: `server certificate ${seen} of ${endpoint} is not in trust.certificates`,
          detail: { reason: 'UntrustedServerCertificate', thumbprint: seen },
        };
  }
  const pins = readPins(paths.pinned);
  const pinned = pins[endpoint];
  if (pinned === undefined) {
    pins[endpoint] = seen;
    writePins(paths.pinned, pins);
    log.warn({ endpoint, thumbprint: seen, file: paths.pinned }, 'OPC UA: trusting the server certificate on first use (pinned)');
    return { trusted: true };
  }
  if (pinned === seen) return { trusted: true };
  return {
    trusted: false,
    message: `server certificate of ${endpoint} changed: pinned ${pinned}, presented ${seen}; if the change is expected, remove the entry from ${paths.pinned} or list the new thumbprint under trust.certificates with trust.policy: list`,
    detail: { reason: 'ServerCertificateChanged', pinned, thumbprint: seen },
  };
}

/** Serializes creation of the application certificate per PKI folder (first connects may race). */
const creating = new Map<string, Promise<void>>();

/**
 * A certificate manager on the driver's PKI folder whose server-certificate check applies the
 * trust policy; `verdict` holds the last decision. Creates the application certificate once.
 */
export async function certificateManagerFor(
  endpoint: string,
  connection: OpcuaConnection,
  paths: PkiPaths,
  log: Logger,
): Promise<{ manager: CertificateManager; verdict: TrustVerdict }> {
  const { OPCUACertificateManager } = await loadCertificateManager();
  const opcua = await loadOpcua();
  const manager = new OPCUACertificateManager({ rootFolder: paths.root, automaticallyAcceptUnknownCertificate: false, name: 'pki' });
  const verdict: TrustVerdict = { trusted: false };
  let first = creating.get(paths.root);
  if (first === undefined) {
    first = (async () => {
      await manager.initialize();
      if (!existsSync(paths.certificateFile)) {
        // The client creates its self-signed certificate on first use; do it here, once.
        const client = opcua.OPCUAClient.create({ applicationName: 'fieldgate', clientCertificateManager: manager, endpointMustExist: false });
        await (client as unknown as { createDefaultCertificate(): Promise<void> }).createDefaultCertificate();
        log.info({ file: paths.certificateFile }, 'OPC UA: created the gateway application certificate');
      }
    })();
    creating.set(paths.root, first);
    first.catch(() => creating.delete(paths.root));
  }
  await first;
  await manager.initialize();
  const check = async (chain: Buffer | Buffer[]): Promise<unknown> => {
    const der = Array.isArray(chain) ? chain[0]! : chain;
    Object.assign(verdict, decideTrust(endpoint, der, connection, paths, log));
    return verdict.trusted ? opcua.StatusCodes.Good : opcua.StatusCodes.BadCertificateUntrusted;
  };
  (manager as unknown as { checkCertificate: typeof check }).checkCertificate = check;
  return { manager, verdict };
}

/** The user identity of a session: username/password, else X.509 certificate, else anonymous (Baetyl's order). */
export function userIdentity(opcua: OpcuaModule, connection: OpcuaConnection): UserIdentity {
  const { username, password } = connection.auth;
  if (username !== undefined) return { type: opcua.UserTokenType.UserName, userName: username, password: password ?? '' };
  if (connection.certificate !== undefined) {
    let certificateData: Buffer;
    let privateKey: string;
    try {
      certificateData = toDer(pemOrFile(connection.certificate.cert));
      privateKey = pemOrFile(connection.certificate.key);
    } catch (e) {
      throw new DriverError('Config', `certificate: cannot read the user certificate or key: ${(e as Error).message}`);
    }
    return { type: opcua.UserTokenType.Certificate, certificateData, privateKey } as UserIdentity;
  }
  return { type: opcua.UserTokenType.Anonymous };
}
