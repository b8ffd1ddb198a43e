/**
 * Fault scenario 4, bad input at every door (issue 9), part 2: seeded random bytes into every
 * pure decoder. Covered: the IEC 104 frame splitter and the APDU, ASDU and CP56Time2a decoders,
 * the MQTT JSON parser (compared with JSON.parse), Baetyl and cloud envelope parsing, the YAML
 * reader and the whole configuration loader. No decoder may throw: each answers with its typed
 * result, and nothing may hang. The wire decoders behind sockets (Modbus, BACnet, OPC UA) are in
 * bad-input-wire.test.ts.
 *
 * Reproduce a failure with `FIELDGATE_FUZZ_SEED=<seed> node --import tsx --test test/faults/bad-input-fuzz.test.ts`.
 * Each failure message names the seed and the case number (and shows the input where it fits).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deriveSeed, mulberry32 } from '../../simulators/common/prng.ts';
import { decodeApdu, encodeI, encodeS, encodeU, encodeApdu, U_FUNCTIONS } from '../../src/drivers/iec104/codec/apci.ts';
import type { UFunction } from '../../src/drivers/iec104/codec/apci.ts';
import { decodeAsdu } from '../../src/drivers/iec104/codec/asdu.ts';
import { FrameSplitter } from '../../src/drivers/iec104/codec/splitter.ts';
import { decodeCp56 } from '../../src/drivers/iec104/codec/time.ts';
import { MONITOR_TYPES, COMMAND_TYPES } from '../../src/drivers/iec104/codec/types.ts';
import { parseJsonExact } from '../../src/gateway/mqtt/jsonparse.ts';
import { parseDownlink } from '../../src/gateway/mqtt/downlink.ts';
import { parseDesired, parseGet } from '../../src/shadow/sync/protocol.ts';
import { parseYaml } from '../../src/devicemodel/schema/yaml.ts';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { writeConf } from '../e2e/harness.ts';
import { recordRow, scaled } from './report.ts';

const SEED = Number(process.env.FIELDGATE_FUZZ_SEED ?? 20_261_125);
const N = scaled(3000, 100_000);
const CODEC_ERRORS = new Set(['BadStart', 'BadLength', 'BadControl', 'UnknownType', 'BadValue', 'Truncated', 'TrailingBytes']);
const counts: Record<string, number> = {};
/** Issues of the YAML reader without a line (a known bug, reported in the row). */

/** A seeded source of random test input. */
class Rand {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 64)).toString('hex') + (b.length > 64 ? '…' : '');

/** Runs `body` on case i = 0..n-1; a returned problem or a throw becomes a failure naming the seed and the case. */
function fuzz(name: string, count: number, body: (r: Rand, i: number) => string | undefined): void {
  const n = Math.floor(count);
  const r = new Rand(deriveSeed(SEED, name));
  const problems: string[] = [];
  for (let i = 0; i < n && problems.length < 5; i++) {
    try {
      const p = body(r, i);
      if (p !== undefined) problems.push(`${name} seed ${SEED} case ${i}: ${p}`);
    } catch (e) {
      problems.push(`${name} seed ${SEED} case ${i}: threw ${(e as Error).stack?.split('\n').slice(0, 3).join(' ')}`);
    }
  }
  counts[name] = n;
  assert.deepEqual(problems, [], problems.join('\n'));
}

test('IEC 104: the splitter and the APDU, ASDU and time decoders answer every byte string with a typed result', () => {
  const uFns = Object.keys(U_FUNCTIONS) as UFunction[];
  const validFrame = (r: Rand): Uint8Array => {
    const k = r.int(3);
    if (k === 0) return encodeU(r.pick(uFns));
    if (k === 1) return encodeS(r.int(0x8000));
    return encodeI(r.int(0x8000), r.int(0x8000), r.bytes(1 + r.int(40)));
  };
  // A stream of valid frames, then garbage that starts with a wrong start octet, pushed in random
  // chunks: every frame before the garbage comes out, byte for byte, then BadStart and nothing more.
  fuzz('iec104 splitter', N / 10, (r) => {
    const frames = Array.from({ length: 1 + r.int(8) }, () => validFrame(r));
    let garbage = r.bytes(1 + r.int(30));
    if (garbage[0] === 0x68) garbage = Uint8Array.of(0x00, ...garbage);
    const stream = Buffer.concat([...frames, garbage]);
    const s = new FrameSplitter();
    const got: Uint8Array[] = [];
    let error: string | undefined;
    for (let at = 0; at < stream.length; ) {
      const len = 1 + r.int(20);
      const res = s.push(stream.subarray(at, at + len));
      at += len;
      for (const f of res.frames) got.push(encodeApdu(f));
      if (res.error !== undefined) {
        if (error !== undefined && res.frames.length > 0) return 'frames after the stream broke';
        error ??= res.error.code;
      }
    }
    if (error !== 'BadStart') return `expected BadStart at the garbage, got ${error} for ${hex(stream)}`;
    if (got.length !== frames.length) return `${got.length} frames out of ${frames.length} before the garbage in ${hex(stream)}`;
    for (let i = 0; i < frames.length; i++) if (Buffer.compare(Buffer.from(got[i]!), Buffer.from(frames[i]!)) !== 0) return `frame ${i} differs: ${hex(got[i]!)} vs ${hex(frames[i]!)}`;
    return undefined;
  });
  fuzz('iec104 splitter random', N / 10, (r) => {
    const s = new FrameSplitter();
    let err: string | undefined;
    for (let k = 0; k < 10; k++) {
      const res = s.push(r.bytes(r.int(300)));
      if (!Array.isArray(res.frames)) return 'frames is not an array';
      if (res.error !== undefined && !CODEC_ERRORS.has(res.error.code)) return `untyped error ${JSON.stringify(res.error)}`;
      if (err !== undefined && res.error?.code !== err) return 'the error changed after the stream broke';
      err ??= res.error?.code;
    }
    return undefined;
  });
  fuzz('iec104 apdu', N, (r) => {
    // Half start with 0x68 and a plausible length so that the control field decoders run too.
    const b = r.bytes(r.int(260));
    if (r.int(2) === 0 && b.length > 2) {
      b[0] = 0x68;
      b[1] = Math.min(253, b.length - 2);
    }
    const d = decodeApdu(b);
    if (d.kind === 'ok') return d.consumed === 2 + b[1]! ? undefined : `consumed ${d.consumed} for length ${b[1]}`;
    if (d.kind === 'error') return CODEC_ERRORS.has(d.error.code) ? undefined : `untyped error ${JSON.stringify(d.error)}`;
    return d.kind === 'incomplete' ? undefined : `unknown kind for ${hex(b)}`;
  });
  const typeIds = [...MONITOR_TYPES.keys(), ...COMMAND_TYPES.keys(), 100, 101, 103];
  fuzz('iec104 asdu', N, (r) => {
    const b = r.bytes(r.int(250));
    if (b.length > 0 && r.int(4) > 0) b[0] = r.pick(typeIds);
    const d = decodeAsdu(b);
    if (d.kind === 'error') return CODEC_ERRORS.has(d.error.code) ? undefined : `untyped error ${JSON.stringify(d.error)} for ${hex(b)}`;
    if (d.kind === 'ok' && d.consumed > b.length) return `consumed ${d.consumed} of ${b.length}`;
    return d.kind === 'ok' || d.kind === 'incomplete' ? undefined : 'unknown kind';
  });
  fuzz('iec104 cp56', N, (r) => {
    const b = r.bytes(r.int(10));
    const d = decodeCp56(b);
    return d.kind === 'ok' || d.kind === 'incomplete' || (d.kind === 'error' && CODEC_ERRORS.has(d.error.code)) ? undefined : `bad result for ${hex(b)}`;
  });
});

/** JSON-ish text: valid JSON mutated, or a soup of JSON tokens. */
function jsonish(r: Rand): string {
  const tokens = ['{', '}', '[', ']', ',', ':', '"a"', '"__proto__"', '"constructor"', '"\\u00e9\\n"', '"\\ud800"', '1', '-0.5e3', '1e400', '18446744073709551615', '-9007199254740993', 'true', 'false', 'null', ' ', '"', '\\', '0x1', '01', '.5', 'NaN', '\u2028', '\u0000', '\t'];
  if (r.int(2) === 0) return Array.from({ length: r.int(25) }, () => r.pick(tokens)).join('');
  const value = (d: number): unknown => {
    const k = r.int(d > 4 ? 4 : 7);
    if (k === 0) return r.int(1000) - 500;
    if (k === 1) return r.pick(['x', '', 'é', '"q"', '\\']);
    if (k === 2) return r.int(2) === 0;
    if (k === 3) return null;
    if (k === 4) return Array.from({ length: r.int(4) }, () => value(d + 1));
    return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(['a', 'b', '__proto__', 'kind', 'meta']), value(d + 1)]));
  };
  const s = JSON.stringify(value(0)).split('');
  for (let m = r.int(3); m > 0 && s.length > 0; m--) {
    const at = r.int(s.length);
    const op = r.int(3);
    if (op === 0) s.splice(at, 1);
    else if (op === 1) s.splice(at, 0, r.pick(tokens));
    else s[at] = r.pick(tokens);
  }
  return s.join('');
}

const depthOf = (s: string) => {
  let d = 0;
  let max = 0;
  for (const c of s) {
    if (c === '[' || c === '{') max = Math.max(max, ++d);
    else if (c === ']' || c === '}') d--;
  }
  return max;
};
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x)));

test('MQTT JSON parser: agrees with JSON.parse on random text, never throws, never touches a prototype', () => {
  fuzz('jsonparse', N, (r) => {
    const text = r.int(10) === 0 ? Buffer.from(r.bytes(r.int(60))).toString('utf8') : jsonish(r);
    let ref: { ok: true; v: unknown } | { ok: false };
    try {
      ref = { ok: true, v: JSON.parse(text) };
    } catch {
      ref = { ok: false };
    }
    const got = parseJsonExact(text);
    if (got.kind === 'error' && typeof got.error !== 'string') return 'error without a message';
    if (ref.ok && got.kind !== 'ok') return depthOf(text) > 64 ? undefined : `JSON.parse accepts ${JSON.stringify(text)}, parseJsonExact says ${got.error}`;
    if (!ref.ok && got.kind === 'ok') return `JSON.parse rejects ${JSON.stringify(text)}, parseJsonExact accepts it`;
    if (ref.ok && got.kind === 'ok') {
      // "__proto__" must be an own key (as JSON.parse makes it), never the object's prototype.
      if (JSON.stringify(plain(got.value)) !== JSON.stringify(ref.v)) return `value differs for ${JSON.stringify(text)}: ${JSON.stringify(plain(got.value))} vs ${JSON.stringify(ref.v)}`;
      if (({} as Record<string, unknown>).a !== undefined || Object.prototype.hasOwnProperty.call(Object.prototype, 'a')) return 'Object.prototype was polluted';
    }
    return undefined;
  });
});

test('Baetyl and cloud envelopes: every payload becomes a typed downlink, desired document or refusal', () => {
  const kinds = new Set(['delta', 'propertyGet', 'readNow', 'shadowResponse', 'shadowRequest', 'ignored', 'invalid']);
  const valid = [
    '{"kind":"deviceDelta","meta":{"device":"d1"},"content":{"blink":{"reqId":"r","properties":{"a":1,"b":null}}}}',
    '{"kind":"thing.property.get","meta":{"device":"d1"},"content":{"blink":{"properties":["a"]}}}',
    '{"kind":"deviceEvent","meta":{"device":"d1"},"content":{"type":"report"}}',
    '{"kind":"response","meta":{"device":"d1"},"content":{"name":"d1","report":{"a":1},"desire":{}}}',
    '{"kind":"deviceDesire","meta":{"device":"d1","node":"n"},"content":{"desired":{"a":1},"version":3,"clientToken":"c"}}',
  ];
  const topics = ['thing/p/d1/property/invoke', 'thing/p/d1/property/get', 'thing/p/d1/raw/c2d', '$baetyl/device/d1/getResponse', 'other/topic', ''];
  const mutate = (r: Rand, s: string): Buffer => {
    const b = Buffer.from(s);
    for (let m = 1 + r.int(4); m > 0; m--) b[r.int(b.length)] = r.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x00, 0xff, 0x30, 0x6e, r.int(256)]);
    return b;
  };
  fuzz('downlink', N, (r) => {
    const payload = r.int(3) === 0 ? Buffer.from(r.bytes(r.int(200))) : mutate(r, r.pick(valid));
    const d = parseDownlink(r.pick(topics), payload);
    if (!kinds.has(d.kind)) return `unknown kind ${d.kind}`;
    if ((d.kind === 'invalid' || d.kind === 'ignored') && !(typeof d.reason === 'string' && d.reason.length > 0)) return 'refusal without a reason';
    if (d.kind === 'delta' && (typeof d.device !== 'string' || d.device === '' || Object.values(d.properties).includes(null))) return `bad delta ${JSON.stringify(d)}`;
    return undefined;
  });
  fuzz('cloud desired/get', N, (r) => {
    const payload = r.int(3) === 0 ? Buffer.from(r.bytes(r.int(200))) : mutate(r, r.pick(valid));
    const d = parseDesired('d1', payload);
    const g = parseGet(payload);
    for (const x of [d, g]) if (x.kind !== 'ok' && !(x.kind === 'error' && typeof x.error === 'string' && x.error.length > 0)) return `untyped result ${JSON.stringify(x)}`;
    return undefined;
  });
});

const CONF = {
  gateway: 'node: fz\nembeddedBroker: {host: 127.0.0.1, port: 1883}\ndrivers:\n  - {name: plant, driver: modbus}\n',
  models: 'valve:\n  - {name: setpoint, type: float32, mode: rw, min: 0, max: 100}\n  - {name: flow, type: float32, mode: ro}\n',
  template:
    'valve-tpl:\n  properties:\n    - {name: sp, id: "1", type: int16, visitor: {modbus: {function: 3, address: "0x0", quantity: 1}}}\n    - {name: fl, id: "3", type: int16, visitor: {modbus: {function: 4, address: "0x0", quantity: 1}}}\n  mappings:\n    - {attribute: setpoint, type: calculate, expression: x1/10, precision: 1}\n    - {attribute: flow, type: calculate, expression: x3/10, precision: 1}\n',
  devices: 'devices:\n  - name: valve-1\n    deviceModel: valve\n    accessTemplate: valve-tpl\n    accessConfig:\n      modbus: {id: 1, interval: 100ms, tcp: {address: 127.0.0.1, port: 1502}}\ndriver: ""\n',
};

test('YAML reader and configuration loader: random edits give issues with file and place, never a throw or a hang', async () => {
  const yamlTokens = [':', ': ', '- ', '{', '}', '[', ']', '"', "'", '\t', '\n', '  ', '&a ', '*a', '!!binary ', '!!js/function ', '<<: *a', '#', '|', '>', '%YAML 1.2\n', '---\n', '...\n', 'x: ', '0x', '1e9', '~', 'null', '\u0000', '\ufeff'];
  fuzz('yaml', N / 3, (r) => {
    const src = r.int(4) === 0 ? Buffer.from(r.bytes(r.int(200))).toString('utf8') : Array.from({ length: r.int(40) }, () => r.pick(yamlTokens)).join('');
    const p = parseYaml('f.yml', src);
    for (const i of p.issues) {
      if (i.file !== 'f.yml' || typeof i.message !== 'string' || i.message.length === 0) return `issue without file or message: ${JSON.stringify(i)}`;
      if (i.line === undefined) return `issue without a place: ${JSON.stringify(i)} for ${JSON.stringify(src)}`;
    }
    return undefined;
  });
  // Whole folders: one of the four files edited at random, loaded by the real loader.
  const r = new Rand(SEED);
  const names = { gateway: 'gateway.yaml', models: 'plant/models.yml', template: 'plant/access_template.yml', devices: 'plant/sub_devices.yml' } as const;
  const conf = writeConf(CONF, 'plant');
  const problems: string[] = [];
  let refused = 0;
  const runs = scaled(60, 1000);
  try {
    for (let i = 0; i < runs && problems.length < 5; i++) {
      const key = r.pick(Object.keys(names) as (keyof typeof names)[]);
      const chars = CONF[key].split('');
      for (let m = 1 + r.int(3); m > 0; m--) {
        const at = r.int(chars.length);
        const op = r.int(3);
        if (op === 0) chars.splice(at, 1 + r.int(5));
        else if (op === 1) chars.splice(at, 0, r.pick(yamlTokens));
        else chars[at] = r.pick(yamlTokens);
      }
      const text = chars.join('');
      for (const k of Object.keys(names) as (keyof typeof names)[]) writeFileSync(path.join(conf.dir, names[k]), k === key ? text : CONF[k]);
      const t0 = Date.now();
      try {
        const res = await loadConfig(conf.dir, createRegistry());
        if (Date.now() - t0 > 2000) problems.push(`case ${i}: loading took ${Date.now() - t0} ms`);
        if (!res.ok) {
          refused++;
          const shown = new Set(Object.values(names).map((n) => path.join(conf.dir, n)));
          for (const iss of res.issues) if (!shown.has(iss.file) || iss.message.length === 0) problems.push(`case ${i}: issue without its file: ${JSON.stringify(iss)}`);
        }
      } catch (e) {
        problems.push(`seed ${SEED} case ${i}: loadConfig threw ${(e as Error).message} on ${key}: ${JSON.stringify(text)}`);
      }
    }
    // A billion-laughs alias bomb is refused quickly.
    writeFileSync(path.join(conf.dir, names.models), `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n`);
    const t0 = Date.now();
    const bomb = await loadConfig(conf.dir, createRegistry());
    assert.equal(bomb.ok, false, 'the alias bomb is refused');
    assert.ok(Date.now() - t0 < 2000, `alias bomb refused in ${Date.now() - t0} ms`);
  } finally {
    conf.cleanup();
  }
  counts['config loader'] = runs;
  assert.deepEqual(problems, [], problems.join('\n'));
  assert.ok(refused > runs / 4, `${refused} of ${runs} random edits refused (the edits must break something)`);
});

test('row: bad input into the decoders', () => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  recordRow({
    scenario: '4b. bad input: decoders',
    traffic: `${total} seeded random inputs (seed ${SEED}): ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    faults: 'random bytes, token soup and mutated valid messages into IEC 104 splitter/APDU/ASDU/CP56, JSON parser, Baetyl and cloud envelopes, YAML, config loader; an alias bomb',
    lost: 0,
    duplicated: 0,
    recovery: 'n/a (pure decoders: typed result for every input)',
    notes:
      'no throw escaped; the JSON parser agreed with JSON.parse on every input (depth > 64 refused by design); splitter delivered every frame before the garbage byte for byte',
  });
  assert.ok(Object.keys(counts).length >= 9, `every decoder ran: ${Object.keys(counts).join(', ')}`);
});

test('a YAML alias error names its line, path and the fix', () => {
  const p = parseYaml('conf/plant/models.yml', 'valve:\n  - {name: a, type: int16}\n  - <<: *missing\n');
  assert.equal(p.issues.length, 1);
  assert.equal(p.issues[0]!.line, 3, JSON.stringify(p.issues[0]));
  assert.deepEqual(p.issues[0]!.path, ['valve', 1, '<<']);
  assert.match(p.issues[0]!.message, /define the anchor &missing/);
});
