/**
 * Lazy loading of node-opcua: the gateway imports this driver's descriptor whether or not a
 * device uses OPC UA, so the heavy stack (about 120 packages) loads only on the first connect.
 * The packages are CommonJS; under ESM their exports sit on `default`.
 */
import type * as ClientModule from 'node-opcua-client';
import type * as CertificateManagerModule from 'node-opcua-certificate-manager';

export type OpcuaModule = typeof ClientModule;
export type CertificateModule = typeof CertificateManagerModule;

let client: Promise<OpcuaModule> | undefined;
let certificates: Promise<CertificateModule> | undefined;

function cjs<T>(m: unknown): T {
  const d = (m as { default?: unknown }).default;
  return (d ?? m) as T;
}

/** node-opcua-client, loaded once. */
export function loadOpcua(): Promise<OpcuaModule> {
  client ??= import('node-opcua-client').then((m) => cjs<OpcuaModule>(m));
  return client;
}

/** node-opcua-certificate-manager (a dependency of node-opcua-client), loaded once. */
export function loadCertificateManager(): Promise<CertificateModule> {
  certificates ??= import('node-opcua-certificate-manager').then((m) => cjs<CertificateModule>(m));
  return certificates;
}
