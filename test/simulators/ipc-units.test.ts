/**
 * Pure parts of the camera simulator: WS-Security and HTTP Digest checks (vectors computed here
 * from the spec formulas), the XML reader, ISO durations, the PTZ head on a fake clock, the
 * event hub, JPEG splitting and WS-Discovery probe matching.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkUsernameToken, HttpAuth, parseAuthParams, passwordDigest } from '../../simulators/ipc/auth.ts';
import { answerProbe, scopeMatches } from '../../simulators/ipc/discovery.ts';
import { EventHub } from '../../simulators/ipc/event-hub.ts';
import { splitJpegs } from '../../simulators/ipc/frames.ts';
import { parseIsoDuration, parseTerminationTime } from '../../simulators/ipc/iso-duration.ts';
import { PtzHead } from '../../simulators/ipc/ptz-state.ts';
import { parseSoap } from '../../simulators/ipc/soap.ts';
import { parseXml, textAt } from '../../simulators/ipc/xml.ts';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

function header(user: string, password: string, nonceB64: string, created: string): string {
  return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><wsse:Security xmlns:wsse="${WSSE}"><wsse:UsernameToken><wsse:Username>${user}</wsse:Username><wsse:Password Type="${DIGEST_TYPE}">${password}</wsse:Password><wsse:Nonce>${nonceB64}</wsse:Nonce><wsu:Created xmlns:wsu="x">${created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header><s:Body><a xmlns="urn:x"/></s:Body></s:Envelope>`;
}

describe('WS-Security UsernameToken PasswordDigest (UsernameToken Profile 1.0 §3.1)', () => {
  // nonce = 16 bytes 00..0f, created = 2026-11-25T12:00:00Z, password = "pass"
  const nonce = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const created = '2026-11-25T12:00:00Z';
  const expected = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'ascii'), Buffer.from('pass', 'ascii')])).digest('base64');

  test('digest = Base64(SHA-1(nonce bytes ‖ created ‖ password))', () => {
    assert.equal(passwordDigest(nonce, created, 'pass'), expected);
    assert.equal(Buffer.from(expected, 'base64').length, 20);
    // Nonce as raw bytes, not as its Base64 text.
    assert.notEqual(passwordDigest(Buffer.from(nonce.toString('base64')), created, 'pass'), expected);
  });

  test('checkUsernameToken: ok, wrong digest/user, outside the Created window, absent', () => {
    const now = Date.parse(created) + 1000;
    const parse = (xml: string) => {
      const p = parseSoap(xml);
      assert.equal(p.kind, 'ok');
      return p.kind === 'ok' ? p.value.header : undefined;
    };
    const creds = { username: 'admin', password: 'pass' };
    assert.equal(checkUsernameToken(parse(header('admin', expected, nonce.toString('base64'), created)), creds, now), 'ok');
    assert.equal(checkUsernameToken(parse(header('admin', expected, nonce.toString('base64'), created)), { username: 'admin', password: 'pasS' }, now), 'bad');
    assert.equal(checkUsernameToken(parse(header('root', expected, nonce.toString('base64'), created)), creds, now), 'bad');
    assert.equal(checkUsernameToken(parse(header('admin', expected, nonce.toString('base64'), created)), creds, now + 10 * 60_000), 'bad');
    assert.equal(checkUsernameToken(parse(header('admin', expected, Buffer.from('other').toString('base64'), created)), creds, now), 'bad');
    assert.equal(checkUsernameToken(undefined, creds, now), 'absent');
  });
});

describe('HTTP Digest (RFC 7616, MD5, qop=auth) and Basic', () => {
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  let clock = 1_000_000;
  const auth = new HttpAuth('cam', () => clock);
  const creds = { username: 'admin', password: 'secret' };
  const answer = (nonce: string, pass: string, uri = '/onvif/device_service', realm = 'cam'): string => {
    const response = md5(`${md5(`admin:${realm}:${pass}`)}:${nonce}:00000001:abcd:auth:${md5(`POST:${uri}`)}`);
    return `Digest username="admin",realm="${realm}",nonce="${nonce}",uri="${uri}",qop=auth,nc=00000001,cnonce="abcd",response="${response}"`;
  };
  const nonceOf = (): string => /nonce="([^"]+)"/.exec(auth.challenges()[0]!)![1]!;

  test('challenge params parse back (quoted, unquoted, commas)', () => {
    assert.deepEqual(parseAuthParams('realm="a, b", qop=auth, nonce="n\\"x"'), { realm: 'a, b', qop: 'auth', nonce: 'n"x' });
    assert.deepEqual(auth.challenges({ basic: true }).map((c) => c.split(' ')[0]), ['Digest', 'Basic']);
  });

  test('right answer ok; wrong password, realm, forged nonce bad; old nonce stale', () => {
    const n = nonceOf();
    assert.equal(auth.check(answer(n, 'secret'), 'POST', creds, false), 'ok');
    assert.equal(auth.check(answer(n, 'secreT'), 'POST', creds, false), 'bad');
    assert.equal(auth.check(answer(n, 'secret', '/onvif/device_service', 'other'), 'POST', creds, false), 'bad');
    assert.equal(auth.check(answer(n, 'secret'), 'GET', creds, false), 'bad');
    assert.equal(auth.check(answer(Buffer.from(`${clock}:0000`).toString('base64'), 'secret'), 'POST', creds, false), 'bad');
    clock += 6 * 60_000;
    assert.equal(auth.check(answer(n, 'secret'), 'POST', creds, false), 'stale');
    assert.equal(auth.check(undefined, 'POST', creds, false), 'absent');
  });

  test('Basic only where allowed', () => {
    const b = `Basic ${Buffer.from('admin:secret').toString('base64')}`;
    assert.equal(auth.check(b, 'GET', creds, true), 'ok');
    assert.equal(auth.check(b, 'GET', creds, false), 'bad');
    assert.equal(auth.check(`Basic ${Buffer.from('admin:x').toString('base64')}`, 'GET', creds, true), 'bad');
  });
});

describe('XML reader', () => {
  test('namespaces by URI, entities, CDATA, attributes by local name', () => {
    const r = parseXml('<?xml version="1.0"?><!-- c --><a:Root xmlns:a="urn:a" xmlns="urn:d" a:k="1 &amp; 2"><Child x=\'&lt;&#65;&#x42;\'>t&gt;<![CDATA[<raw>]]></Child></a:Root>');
    assert.equal(r.kind, 'ok');
    if (r.kind !== 'ok') return;
    assert.deepEqual([r.value.name, r.value.prefix, r.value.ns, r.value.attrs], ['Root', 'a', 'urn:a', { k: '1 & 2' }]);
    const c = r.value.children[0]!;
    assert.deepEqual([c.name, c.ns, c.attrs['x'], c.text], ['Child', 'urn:d', '<AB', 't><raw>']);
    assert.equal(textAt(r.value, 'Child'), 't><raw>');
  });

  test('refuses what SOAP never needs', () => {
    const bad: [string, RegExp][] = [
      ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', /DOCTYPE/],
      ['<a><b></a>', /unexpected/],
      ['<a>&nope;</a>', /entity/],
      ['<a>&</a>', /entity/],
      ['<p:a/>', /undeclared prefix/],
      ['<a x="1" x="2"/>', /duplicate/],
      ['<a/><b/>', /more than one root/],
      ['<a>', /unclosed/],
      ['', /no root/],
      ['<a>'.repeat(70) + '</a>'.repeat(70), /deeper/],
    ];
    for (const [xml, re] of bad) {
      const r = parseXml(xml);
      assert.equal(r.kind, 'error', xml);
      if (r.kind === 'error') assert.match(r.error, re, xml);
    }
  });
});

test('ISO 8601 durations and termination times', () => {
  const table: [string, number | undefined][] = [['PT1M', 60_000], ['PT0.5S', 500], ['PT10S', 10_000], ['P1DT1H', 90_000_000], ['PT', undefined], ['P', undefined], ['1M', undefined], ['PT-1S', undefined]];
  for (const [s, ms] of table) assert.equal(parseIsoDuration(s), ms, s);
  assert.equal(parseTerminationTime('PT2M', 1000), 121_000);
  assert.equal(parseTerminationTime('2026-11-25T12:00:00Z', 0), Date.parse('2026-11-25T12:00:00Z'));
  assert.equal(parseTerminationTime('soon', 0), undefined);
});

describe('PTZ head on a fake clock', () => {
  test('continuous move integrates velocity, clamps, stops on Stop or timeout', () => {
    let t = 0;
    const h = new PtzHead(() => t);
    h.continuous({ pan: 0.5, tilt: -1, zoom: 0.25 }, undefined);
    t = 1000;
    assert.deepEqual(h.position(), { pan: 0.5, tilt: -1, zoom: 0.25 });
    assert.deepEqual(h.moving(), { panTilt: true, zoom: true });
    t = 3000;
    assert.deepEqual(h.position(), { pan: 1, tilt: -1, zoom: 0.75 });
    assert.deepEqual(h.moving(), { panTilt: false, zoom: true });
    h.stop(false, true);
    t = 4000;
    assert.deepEqual(h.position(), { pan: 1, tilt: -1, zoom: 0.75 });
    h.absolute({ pan: 0, tilt: 0, zoom: 0 });
    h.continuous({ pan: -1 }, 500);
    t = 6000;
    assert.deepEqual(h.position(), { pan: -0.5, tilt: 0, zoom: 0 });
    assert.equal(h.snapshot().moving, false);
  });

  test('stop of pan/tilt only keeps zooming; presets and home', () => {
    let t = 0;
    const h = new PtzHead(() => t);
    h.continuous({ pan: 0.5, zoom: 0.5 }, undefined);
    t = 1000;
    h.stop(true, false);
    t = 2000;
    assert.deepEqual(h.position(), { pan: 0.5, tilt: 0, zoom: 1 });
    h.relative({ pan: 0.25 });
    const p = h.setPreset('Here', undefined)!;
    h.gotoHome();
    assert.deepEqual(h.position(), { pan: 0, tilt: 0, zoom: 0 });
    assert.equal(h.gotoPreset(p.token), true);
    assert.deepEqual(h.position(), { pan: 0.75, tilt: 0, zoom: 1 });
    assert.equal(h.gotoPreset('nope'), false);
    assert.equal(h.removePreset(p.token), true);
    h.record('GotoPreset');
    h.record('GotoPreset');
    assert.deepEqual(h.snapshot().commands, { GotoPreset: 2 });
  });
});

describe('event hub', () => {
  test('a new subscription starts with Initialized states; pull takes up to the limit', async () => {
    const hub = new EventHub();
    hub.raise('motion', true);
    const s = hub.create(Date.now() + 60_000)!;
    const ac = new AbortController();
    const first = await hub.pull(s, 1, 0, ac.signal);
    assert.deepEqual(first.map((e) => [e.kind, e.operation, e.state]), [['motion', 'Initialized', true]]);
    const second = await hub.pull(s, 10, 0, ac.signal);
    assert.deepEqual(second.map((e) => [e.kind, e.operation, e.state]), [['tamper', 'Initialized', false]]);
  });

  test('a long poll ends on raise, on timeout and on abort', async () => {
    const hub = new EventHub();
    const s = hub.create(Date.now() + 60_000)!;
    const ac = new AbortController();
    await hub.pull(s, 10, 0, ac.signal);
    const p = hub.pull(s, 10, 10_000, ac.signal);
    hub.raise('tamper', true);
    assert.deepEqual((await p).map((e) => [e.kind, e.operation, e.state]), [['tamper', 'Changed', true]]);
    const t0 = Date.now();
    assert.deepEqual(await hub.pull(s, 10, 50, ac.signal), []);
    assert.ok(Date.now() - t0 >= 40);
    const q = hub.pull(s, 10, 10_000, ac.signal);
    ac.abort();
    assert.deepEqual(await q, []);
    assert.equal(hub.remove(s.id), true);
    assert.equal(hub.get(s.id), undefined);
  });

  test('expired subscriptions are gone', () => {
    let t = 0;
    const hub = new EventHub({ now: () => t, maxSubscriptions: 1 });
    const s = hub.create(100)!;
    assert.equal(hub.create(200), undefined);
    t = 100;
    assert.equal(hub.get(s.id), undefined);
    assert.notEqual(hub.create(300), undefined);
  });
});

test('splitJpegs cuts at EOI followed by SOI; FF 00 stuffing inside data is kept', () => {
  // SOI, APP0-ish bytes, data with FF 00 and FF D9 00 inside... EOI | SOI ... EOI
  const a = Buffer.from('ffd8ffe000021234ff00ffd9', 'hex');
  const b = Buffer.from('ffd8aabbffd9', 'hex');
  const frames = splitJpegs(Buffer.concat([a, b]));
  assert.deepEqual(frames.map((f) => f.toString('hex')), [a.toString('hex'), b.toString('hex')]);
  assert.deepEqual(splitJpegs(Buffer.from('ffd8ffd900ffd9', 'hex')).map((f) => f.toString('hex')), ['ffd8ffd900ffd9']);
  assert.deepEqual(splitJpegs(Buffer.from('0102', 'hex')), []);
});

describe('WS-Discovery probe matching', () => {
  const info = { endpoint: 'urn:uuid:abc', scopes: ['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/name/Cam%201'], xaddrs: ['http://127.0.0.1:8080/onvif/device_service'] };
  const probe = (types: string, scopes = '', ns = 'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"'): string =>
    `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ${ns}><e:Header><a:MessageID>urn:uuid:m1</a:MessageID></e:Header>` +
    `<e:Body><d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><d:Types>${types}</d:Types><d:Scopes>${scopes}</d:Scopes></d:Probe></e:Body></e:Envelope>`;
  const seq = { instanceId: 1, messageNumber: 1 };

  test('types and scopes', () => {
    assert.match(answerProbe(probe('dn:NetworkVideoTransmitter'), info, seq) ?? '', /<wsa:RelatesTo>urn:uuid:m1<\/wsa:RelatesTo>/);
    assert.notEqual(answerProbe(probe(''), info, seq), undefined);
    assert.notEqual(answerProbe(probe('x:Device', '', 'xmlns:x="http://www.onvif.org/ver10/device/wsdl"'), info, seq), undefined);
    assert.equal(answerProbe(probe('x:NetworkVideoTransmitter', '', 'xmlns:x="urn:other"'), info, seq), undefined);
    assert.notEqual(answerProbe(probe('', 'onvif://www.onvif.org/type'), info, seq), undefined);
    assert.equal(answerProbe(probe('', 'onvif://www.onvif.org/type/ptz'), info, seq), undefined);
    assert.equal(answerProbe('<a/>', info, seq), undefined);
    assert.equal(scopeMatches('onvif://www.onvif.org/name', 'onvif://WWW.onvif.org/name/Cam%201'), true);
    assert.equal(scopeMatches('onvif://www.onvif.org/nam', 'onvif://www.onvif.org/name/x'), false);
  });
});
