/**
 * WS-Discovery target service (WS-Discovery 2005/04 §5.3, as ONVIF Core §7.3 profiles it):
 * answers a Probe whose Types are empty or name `dn:NetworkVideoTransmitter` / `tds:Device`
 * and whose Scopes all match ours (RFC 3986 prefix rule, §5.1) with a unicast ProbeMatches to
 * the sender, `RelatesTo` = the probe's `MessageID`. Listens on a loopback UDP port; joins the
 * 239.255.255.250:3702 group (on the loopback interface) only when `multicast` is asked for.
 */
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { child, escapeXml as x, parseXml, resolveQName, textAt } from './xml.ts';

const WSD = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
const WSA04 = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const DN = 'http://www.onvif.org/ver10/network/wsdl';
const TDS = 'http://www.onvif.org/ver10/device/wsdl';
export const WSD_GROUP = '239.255.255.250';
export const WSD_PORT = 3702;

export interface DiscoveryInfo {
  /** `urn:uuid:…`: the endpoint reference address. */
  readonly endpoint: string;
  readonly scopes: readonly string[];
  /** Device service URL(s). */
  readonly xaddrs: readonly string[];
}

/** Whether `ours` matches probe scope `want` (WS-Discovery §5.1 RFC 3986 rule, case-sensitive paths). */
export function scopeMatches(want: string, ours: string): boolean {
  const norm = (s: string): string[] => s.replace(/\/+$/, '').split('/');
  const w = norm(want);
  const o = norm(ours);
  if (w.length > o.length) return false;
  return w.every((seg, i) => (i < 3 ? seg.toLowerCase() === o[i]!.toLowerCase() : seg === o[i]));
}

/** The ProbeMatches to send for `probe` (a datagram's text), or undefined when it does not match. */
export function answerProbe(probe: string, info: DiscoveryInfo, appSeq: { instanceId: number; messageNumber: number }): string | undefined {
  const doc = parseXml(probe);
  if (doc.kind === 'error' || doc.value.name !== 'Envelope') return undefined;
  const env = doc.value;
  const p = child(child(env, 'Body'), 'Probe');
  if (p === undefined || p.ns !== WSD) return undefined;
  const messageId = textAt(env, 'Header', 'MessageID');
  if (messageId === undefined || messageId === '') return undefined;
  const typesEl = child(p, 'Types');
  const types = typesEl?.text.trim().split(/\s+/).filter((t) => t !== '') ?? [];
  const ok = types.every((t) => {
    const q = resolveQName(typesEl!, t);
    return (q.name === 'NetworkVideoTransmitter' && (q.ns === DN || q.ns === undefined)) || (q.name === 'Device' && (q.ns === TDS || q.ns === undefined));
  });
  if (!ok) return undefined;
  const scopesEl = child(p, 'Scopes');
  const matchBy = scopesEl?.attrs['MatchBy'];
  if (matchBy !== undefined && matchBy !== 'http://schemas.xmlsoap.org/ws/2005/04/discovery/rfc3986') return undefined;
  const wanted = scopesEl?.text.trim().split(/\s+/).filter((s) => s !== '') ?? [];
  if (!wanted.every((w) => info.scopes.some((s) => scopeMatches(w, s)))) return undefined;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="${WSA04}" xmlns:d="${WSD}" xmlns:dn="${DN}" xmlns:tds="${TDS}">` +
    `<env:Header><wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID><wsa:RelatesTo>${x(messageId)}</wsa:RelatesTo>` +
    '<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>' +
    '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>' +
    `<d:AppSequence InstanceId="${appSeq.instanceId}" MessageNumber="${appSeq.messageNumber}"/></env:Header>` +
    `<env:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference><wsa:Address>${x(info.endpoint)}</wsa:Address></wsa:EndpointReference>` +
    '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
    `<d:Scopes>${info.scopes.map(x).join(' ')}</d:Scopes><d:XAddrs>${info.xaddrs.map(x).join(' ')}</d:XAddrs>` +
    '<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>'
  );
}

/** A running responder. */
export interface DiscoveryResponder {
  readonly port: number;
  probesAnswered(): number;
  close(): Promise<void>;
}

function bindSocket(sock: Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port, address: host, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
}

/** Starts answering probes on `host:port` (0 = free), plus the multicast group when asked. */
export async function startDiscovery(opts: { host: string; port: number; multicast?: boolean; info: () => DiscoveryInfo }): Promise<DiscoveryResponder> {
  const instanceId = Math.floor(Date.now() / 1000);
  let messageNumber = 0;
  let answered = 0;
  const sockets: Socket[] = [];
  const onMessage = (sock: Socket) => (msg: Buffer, rinfo: RemoteInfo) => {
    if (msg.length > 65_000) return;
    const reply = answerProbe(msg.toString('utf8'), opts.info(), { instanceId, messageNumber: ++messageNumber });
    if (reply === undefined) return;
    answered++;
    // Unicast reply to the prober (WS-Discovery §5.3: ProbeMatches go to the sender).
    sock.send(reply, rinfo.port, rinfo.address);
  };
  const unicast = createSocket({ type: 'udp4' });
  unicast.on('message', onMessage(unicast));
  unicast.on('error', () => undefined);
  await bindSocket(unicast, opts.port, opts.host);
  sockets.push(unicast);
  if (opts.multicast === true) {
    const group = createSocket({ type: 'udp4', reuseAddr: true });
    group.on('message', onMessage(group));
    group.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        group.once('error', reject);
        group.bind(WSD_PORT, WSD_GROUP, () => {
          group.off('error', reject);
          resolve();
        });
      });
      group.addMembership(WSD_GROUP, opts.host);
      group.setMulticastInterface(opts.host);
      group.setMulticastLoopback(true);
      sockets.push(group);
    } catch (e) {
      group.close();
      unicast.close();
      throw e;
    }
  }
  return {
    port: unicast.address().port,
    probesAnswered: () => answered,
    close: () => Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined),
  };
}
