/**
 * WS-Discovery (2005/04, as ONVIF Core §7.3 profiles it): a Probe for NetworkVideoTransmitter
 * devices sent over SOAP-over-UDP, and the ProbeMatches answers. The codec is pure (tests with
 * message texts); {@link probe} sends to one address (unicast, the default) or to the multicast
 * group 239.255.255.250:3702 and collects answers until its timeout.
 */
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';

/** The WS-Discovery multicast group and port (WS-Discovery §2.4). */
export const WSD_MULTICAST = { address: '239.255.255.250', port: 3702 } as const;

/** A Probe for ONVIF video transmitters; `messageId` is `urn:uuid:…`. */
export function buildProbe(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:MessageID>${messageId}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>` +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/** One ProbeMatch. */
export interface ProbeMatch {
  /** EndpointReference/Address (`urn:uuid:…`). */
  readonly endpoint: string;
  readonly types: readonly string[];
  readonly scopes: readonly string[];
  /** Device service URLs. */
  readonly xaddrs: readonly string[];
}

const unescape = (s: string): string =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** The text of the first element named `local` (any prefix) inside `xml`. */
function text(xml: string, local: string): string | undefined {
  const m = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${local}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z_][\\w.-]*:)?${local}>`).exec(xml);
  return m === null ? undefined : unescape(m[1]!.trim());
}

const words = (s: string | undefined): string[] => (s === undefined ? [] : s.split(/\s+/).filter((w) => w.length > 0));

/**
 * Parses a ProbeMatches message; `ok` with its matches and `relatesTo` (the Probe's MessageID),
 * or `error` when it is not one.
 */
export function parseProbeMatches(xml: string): { kind: 'ok'; relatesTo: string | undefined; matches: ProbeMatch[] } | { kind: 'error'; error: string } {
  if (!/<(?:[\w.-]+:)?ProbeMatches[\s>/]/.test(xml)) return { kind: 'error', error: 'not a ProbeMatches message' };
  const matches: ProbeMatch[] = [];
  const re = /<(?:[A-Za-z_][\w.-]*:)?ProbeMatch(?:\s[^>]*)?>([\s\S]*?)<\/(?:[A-Za-z_][\w.-]*:)?ProbeMatch>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml)) !== null) {
    const body = m[1]!;
    const endpoint = text(body, 'Address');
    const xaddrs = words(text(body, 'XAddrs'));
    if (endpoint === undefined || xaddrs.length === 0) continue;
    matches.push({ endpoint, types: words(text(body, 'Types')), scopes: words(text(body, 'Scopes')), xaddrs });
  }
  return { kind: 'ok', relatesTo: text(xml, 'RelatesTo'), matches };
}

/** A match with where it came from. */
export interface Found extends ProbeMatch {
  readonly from: string;
}

/**
 * Sends one Probe to `address:port` (twice, WS-Discovery's UDP repetition) and gathers the
 * ProbeMatches that answer it (matched by RelatesTo) for `timeout` ms; duplicates by endpoint are
 * dropped.
 */
export function probe(opts: { address: string; port: number; timeout: number; bind?: string }): Promise<Found[]> {
  return new Promise((resolve, reject) => {
    const id = `urn:uuid:${randomUUID()}`;
    const msg = Buffer.from(buildProbe(id), 'utf8');
    const socket = dgram.createSocket('udp4');
    const found = new Map<string, Found>();
    let timer: NodeJS.Timeout | undefined;
    let repeat: NodeJS.Timeout | undefined;
    const finish = (e?: Error) => {
      clearTimeout(timer);
      clearTimeout(repeat);
      socket.close();
      if (e) reject(e);
      else resolve([...found.values()]);
    };
    socket.on('error', (e) => finish(e));
    socket.on('message', (buf, rinfo) => {
      const r = parseProbeMatches(buf.toString('utf8'));
      if (r.kind !== 'ok' || (r.relatesTo !== undefined && r.relatesTo !== id)) return;
      for (const match of r.matches) if (!found.has(match.endpoint)) found.set(match.endpoint, { ...match, from: `${rinfo.address}:${rinfo.port}` });
    });
    socket.bind(0, opts.bind ?? (/^127\./.test(opts.address) ? '127.0.0.1' : undefined), () => {
      const send = () => socket.send(msg, opts.port, opts.address);
      send();
      repeat = setTimeout(send, Math.min(250, opts.timeout / 4));
      timer = setTimeout(() => finish(), opts.timeout);
    });
  });
}
