/**
 * The camera simulator on the wire: raw SOAP POSTs (faults for unknown actions, malformed XML,
 * missing credentials, WS-Security with a known digest) and WS-Discovery over UDP unicast.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimulator } from '../../simulators/ipc/index.ts';

// The parser onvif's Discovery.probe runs on ProbeMatches (its lib/utils.js), to check compatibility.
const onvifUtils = createRequire(import.meta.url)('onvif/lib/utils.js') as {
  parseSOAPString(xml: string, cb: (err: Error | null, data: unknown) => void, status: number): void;
  linerase(x: unknown): { probeMatches: { probeMatch: { endpointReference: { address: string }; XAddrs: string } } };
};

const ENV = 'http://www.w3.org/2003/05/soap-envelope';
const soap = (body: string, header = ''): string => `<?xml version="1.0"?><s:Envelope xmlns:s="${ENV}"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;

async function post(url: string, body: string): Promise<{ status: number; text: string; wwwAuth: string | null; type: string | null }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/soap+xml; charset=utf-8' }, body });
  return { status: res.status, text: await res.text(), wwwAuth: res.headers.get('www-authenticate'), type: res.headers.get('content-type') };
}

/** UsernameToken header as ONVIF clients build it (UsernameToken Profile 1.0 §3.1). */
function usernameToken(user: string, password: string, nonce: Buffer, created: string): string {
  const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
  return (
    '<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
    `<Username>${user}</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
    `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>` +
    `<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">${created}</Created></UsernameToken></Security>`
  );
}

describe('camera simulator SOAP endpoint', () => {
  let sim: CameraSimulator;
  let url: string;
  before(async () => {
    sim = await startCameraSimulator({ username: 'op', password: 'pw', discoveryPort: 0, snapshotFrames: 2, profiles: [{ token: 'only', name: 'Only', width: 320, height: 240, fps: 5, bitrate: 256 }] });
    url = sim.deviceServiceUrl;
  });
  after(async () => {
    await sim.stop();
  });

  test('GetSystemDateAndTime needs no credentials and tells the time', async () => {
    const r = await post(url, soap('<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
    assert.equal(r.status, 200);
    assert.match(r.type ?? '', /^application\/soap\+xml/);
    const year = new Date().getUTCFullYear();
    assert.match(r.text, new RegExp(`<tt:UTCDateTime>.*<tt:Year>${year}</tt:Year>`));
  });

  test('an unknown action is a Receiver fault ter:ActionNotSupported', async () => {
    const header = usernameToken('op', 'pw', Buffer.from('00112233445566778899aabbccddeeff', 'hex'), new Date().toISOString());
    const r = await post(url, soap('<GetFrobnicator xmlns="http://www.onvif.org/ver10/device/wsdl"/>', header));
    assert.equal(r.status, 500);
    assert.match(r.text, /<env:Value>env:Receiver<\/env:Value><env:Subcode><env:Value>ter:ActionNotSupported<\/env:Value>/);
  });

  test('malformed XML and non-SOAP bodies are Sender faults; the server keeps serving', async () => {
    for (const body of ['<s:Envelope xmlns:s="x"><s:Body>', 'not xml at all', `<!DOCTYPE x [<!ENTITY a "b">]><s:Envelope xmlns:s="${ENV}"><s:Body/></s:Envelope>`, '<a><b></a></b>', soap(''), '<x:Envelope xmlns:x="urn:other"><x:Body><y/></x:Body></x:Envelope>']) {
      const r = await post(url, body);
      assert.equal(r.status, 400, body);
      assert.match(r.text, /<env:Value>env:Sender<\/env:Value>/, body);
      assert.match(r.text, /ter:WellFormed/, body);
    }
    const big = await post(url, 'x'.repeat(2 << 20));
    assert.equal(big.status, 413);
    const ok = await post(url, soap('<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
    assert.equal(ok.status, 200);
  });

  test('no credentials: 401 with a Digest challenge and ter:NotAuthorized', async () => {
    const r = await post(url, soap('<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
    assert.equal(r.status, 401);
    assert.match(r.wwwAuth ?? '', /^Digest realm="[^"]+", qop="auth", nonce="[^"]+", algorithm=MD5$/);
    assert.match(r.text, /ter:NotAuthorized/);
  });

  test('WS-Security UsernameToken: right digest passes, wrong password or stale Created gets 400 NotAuthorized', async () => {
    const body = '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>';
    const nonce = Buffer.from('c2ltdWxhdG9yLW5vbmNl', 'base64');
    const now = new Date().toISOString();
    const good = await post(url, soap(body, usernameToken('op', 'pw', nonce, now)));
    assert.equal(good.status, 200);
    assert.match(good.text, /<tds:Model>SIM-IPC-1<\/tds:Model>/);
    const bad = await post(url, soap(body, usernameToken('op', 'px', nonce, now)));
    assert.equal(bad.status, 400);
    assert.match(bad.text, /ter:NotAuthorized/);
    const old = await post(url, soap(body, usernameToken('op', 'pw', nonce, new Date(Date.now() - 3_600_000).toISOString())));
    assert.equal(old.status, 400);
  });

  test('WS-Discovery: a unicast Probe gets a ProbeMatch with XAddrs, RelatesTo = MessageID', async () => {
    assert.ok(sim.discoveryPort !== undefined && sim.discoveryPort > 0);
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString('utf8')));
    const probe = (id: string, types: string): string =>
      '<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><Header>' +
      `<wsa:MessageID xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">${id}</wsa:MessageID>` +
      '<wsa:To xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>' +
      '<wsa:Action xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action></Header>' +
      `<Body><Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types>${types}</Types><Scopes/></Probe></Body></Envelope>`;
    try {
      sock.send(probe('urn:uuid:11111111-2222-3333-4444-555555555555', 'dn:NetworkVideoTransmitter'), sim.discoveryPort!, '127.0.0.1');
      sock.send(probe('urn:uuid:other', 'dn:Printer'), sim.discoveryPort!, '127.0.0.1');
      sock.send('garbage', sim.discoveryPort!, '127.0.0.1');
      sock.send(probe('urn:uuid:empty-types', ''), sim.discoveryPort!, '127.0.0.1');
      for (let i = 0; i < 50 && replies.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(replies.length, 2);
      const [a, b] = replies as [string, string];
      assert.match(a, /<wsa:RelatesTo>urn:uuid:11111111-2222-3333-4444-555555555555<\/wsa:RelatesTo>/);
      assert.match(b, /<wsa:RelatesTo>urn:uuid:empty-types<\/wsa:RelatesTo>/);
      assert.ok(a.includes(`<d:XAddrs>http://127.0.0.1:${sim.port}/onvif/device_service</d:XAddrs>`));
      assert.match(a, /<d:Types>dn:NetworkVideoTransmitter tds:Device<\/d:Types>/);
      assert.match(a, /<d:Scopes>[^<]*onvif:\/\/www\.onvif\.org\/hardware\/SIM-IPC-1/);
      const parsed = await new Promise<unknown>((resolve, reject) => onvifUtils.parseSOAPString(a, (err, data) => (err ? reject(err) : resolve(data)), 200));
      const match = onvifUtils.linerase(parsed).probeMatches.probeMatch;
      assert.equal(match.XAddrs, `http://127.0.0.1:${sim.port}/onvif/device_service`);
      assert.match(match.endpointReference.address, /^urn:uuid:[0-9a-f-]{36}$/);
    } finally {
      sock.close();
    }
  });
});
