/**
 * SOAP 1.2 envelopes for the camera simulator: reading a request (header, first body element)
 * and writing responses and faults. Responses are templated strings; every value that comes
 * from configuration or a request goes through {@link escapeXml}.
 */
import { child, escapeXml, parseXml } from './xml.ts';
import type { XmlElement } from './xml.ts';

/** Namespace URIs by the prefixes used in responses (ONVIF Core spec §5.3, WS-* specs). */
export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  wsrfrw: 'http://docs.oasis-open.org/wsrf/rw-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tns1: 'http://www.onvif.org/ver10/topics',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  xsd: 'http://www.w3.org/2001/XMLSchema',
} as const;

const DECLS = (['env', 'tds', 'trt', 'tptz', 'tev', 'tt', 'ter', 'wsnt', 'wstop', 'wsa', 'tns1', 'xsd'] as const).map((p) => ` xmlns:${p}="${NS[p]}"`).join('');

/** A parsed request: its header (if any) and the first element of its body (the operation). */
export interface SoapRequest {
  readonly header: XmlElement | undefined;
  readonly op: XmlElement;
}

export type SoapParse = { kind: 'ok'; value: SoapRequest } | { kind: 'error'; error: string };

/** Reads a SOAP 1.2 (or 1.1, which some clients still send) envelope. */
export function parseSoap(text: string): SoapParse {
  const doc = parseXml(text);
  if (doc.kind === 'error') return doc;
  const env = doc.value;
  if (env.name !== 'Envelope' || (env.ns !== NS.env && env.ns !== NS.soap11)) return { kind: 'error', error: 'root is not a SOAP Envelope' };
  const body = env.children.find((c) => c.name === 'Body' && c.ns === env.ns);
  const op = body?.children[0];
  if (op === undefined) return { kind: 'error', error: 'empty or missing SOAP Body' };
  return { kind: 'ok', value: { header: env.children.find((c) => c.name === 'Header' && c.ns === env.ns), op } };
}

/** A response envelope around `body`, with optional header blocks. */
export function envelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope${DECLS}><env:Header>${header}</env:Header><env:Body>${body}</env:Body></env:Envelope>`;
}

/** A SOAP fault to send, with its HTTP status (SOAP 1.2 Part 2 §7.5.1: Sender → 400, Receiver → 500). */
export interface Fault {
  readonly code: 'env:Sender' | 'env:Receiver' | 'env:VersionMismatch';
  /** Subcodes outermost first, e.g. `['ter:InvalidArgVal', 'ter:NoProfile']`. */
  readonly subcodes: readonly string[];
  readonly reason: string;
  /** HTTP status; defaults from the code. */
  readonly status?: number;
}

/** The fault envelope (ONVIF Core §5.11: generic faults carry ter: subcodes). */
export function faultXml(f: Fault): string {
  const nest = (codes: readonly string[]): string => (codes.length === 0 ? '' : `<env:Subcode><env:Value>${codes[0]}</env:Value>${nest(codes.slice(1))}</env:Subcode>`);
  return envelope(
    `<env:Fault><env:Code><env:Value>${f.code}</env:Value>${nest(f.subcodes)}</env:Code>` +
      `<env:Reason><env:Text xml:lang="en">${escapeXml(f.reason)}</env:Text></env:Reason></env:Fault>`,
  );
}

export function faultStatus(f: Fault): number {
  return f.status ?? (f.code === 'env:Receiver' ? 500 : 400);
}

/** Faults every service uses (ONVIF Core §5.11.2 generic faults). */
export const FAULTS = {
  wellFormed: (detail: string): Fault => ({ code: 'env:Sender', subcodes: ['ter:WellFormed'], reason: `Well-formed Error: ${detail}` }),
  notAuthorized: (status = 400): Fault => ({ code: 'env:Sender', subcodes: ['ter:NotAuthorized'], reason: 'Sender not Authorized', status }),
  actionNotSupported: (action: string): Fault => ({ code: 'env:Receiver', subcodes: ['ter:ActionNotSupported'], reason: `Optional Action Not Implemented: ${action}` }),
  invalidArg: (sub: string, reason: string): Fault => ({ code: 'env:Sender', subcodes: ['ter:InvalidArgVal', sub], reason }),
} as const;

/** Thrown by a service handler to answer with a fault. */
export class SoapFault extends Error {
  constructor(readonly fault: Fault) {
    super(fault.reason);
    this.name = 'SoapFault';
  }
}

/** Text of the child `name` of `el`, trimmed, or a Sender fault when missing. */
export function required(el: XmlElement, name: string): string {
  const t = child(el, name)?.text.trim();
  if (t === undefined || t === '') throw new SoapFault(FAULTS.invalidArg('ter:MissingArgument', `missing ${name}`));
  return t;
}
