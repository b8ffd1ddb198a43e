/** Pure parts of the OPC UA driver: schemas, node ids, value conversions, status mapping, trust decisions. No server. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { nodeIdText, opcuaAddressSchema, opcuaConnectionSchema } from '../../src/drivers/opcua/address.ts';
import { withNamespaceIndex } from '../../src/drivers/opcua/nodes.ts';
import { decideTrust, firstDer, pkiPaths, thumbprint } from '../../src/drivers/opcua/pki.ts';
import { fromVariant, statusError, toVariantValue } from '../../src/drivers/opcua/values.ts';
import { memoryLogger } from '../helpers/log.ts';

describe('addresses', () => {
  it('builds node ids by Baetyl rule: ns = nsOffset + nsBase, idOffset only for numeric ids', () => {
    const off = { nsOffset: 1, idOffset: 100 };
    const rows: [Record<string, unknown>, string][] = [
      [{ nsBase: 1, idBase: 5, idType: 'i' }, 'ns=2;i=105'],
      [{ nsBase: 1, idBase: '7' }, 'ns=2;i=107'], // idType defaults to i
      [{ nsBase: 0, idBase: 'the.answer', idType: 's' }, 'ns=1;s=the.answer'],
      [{ nsBase: 2, idBase: '72962b91-fa75-4ae6-8d28-b404dc7daf63', idType: 'g' }, 'ns=3;g=72962b91-fa75-4ae6-8d28-b404dc7daf63'],
      [{ nodeid: 'ns=4;s=As;Written' }, 'ns=4;s=As;Written'],
      [{ nodeId: 'nsu=urn:a:b;i=3' }, 'nsu=urn:a:b;i=3'],
    ];
    for (const [visitor, want] of rows) assert.equal(nodeIdText(opcuaAddressSchema.parse(visitor).node, off), want, JSON.stringify(visitor));
  });

  it('rejects addresses with a message that says what to write', () => {
    const msg = (v: unknown) => {
      const r = opcuaAddressSchema.safeParse(v);
      assert.ok(!r.success);
      return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    assert.match(msg({ nodeid: 'Temperature' }), /not an OPC UA node id; write e\.g\./);
    assert.match(msg({ nsBase: 1, idBase: 'abc', idType: 'i' }), /idBase: idType i needs a numeric idBase/);
    assert.match(msg({ nodeid: 'ns=1;i=1', idBase: 2 }), /either nodeid or nsBase/);
    assert.match(msg({ type: 'float64' }), /give nodeid/);
  });

  it('reads accessConfig.opcua in Baetyl keys with defaults, and checks security and auth', () => {
    const c = opcuaConnectionSchema.parse({ endpoint: 'opc.tcp://127.0.0.1:4840', interval: '5s', timeout: '10s', security: { policy: 'None', mode: 'None' }, auth: {} });
    assert.equal(c.interval, 5000);
    assert.equal(c.subscribe, false);
    assert.equal(c.trust.policy, 'tofu');
    assert.equal(c.nsOffset, 0);
    const bad = opcuaConnectionSchema.safeParse({ endpoint: 'opc.tcp://h:1', security: { policy: 'Basic256Sha256', mode: 'None' }, auth: { username: 'u' } });
    assert.ok(!bad.success);
    const text = bad.error.issues.map((i) => i.message).join('; ');
    assert.match(text, /policy None goes with mode None/);
    assert.match(text, /both username and password/);
    assert.ok(!opcuaConnectionSchema.safeParse({ endpoint: 'http://h:1' }).success);
  });

  it('rewrites nsu= to the namespace index', () => {
    const ns = ['http://opcfoundation.org/UA/', 'urn:server', 'urn:plc'];
    assert.equal(withNamespaceIndex('nsu=urn:plc;s=Speed', ns), 'ns=2;s=Speed');
    assert.equal(withNamespaceIndex('ns=1;i=5', ns), 'ns=1;i=5');
    assert.equal(withNamespaceIndex('nsu=urn:none;i=5', ns), undefined);
  });
});

describe('values', () => {
  it('encodes writes with the exact DataType and range (Part 6 §5.1.2 ids)', () => {
    const rows: [Parameters<typeof toVariantValue>[0], Parameters<typeof toVariantValue>[1], number, unknown][] = [
      ['bool', true, 1, true],
      ['int16', -32768, 4, -32768],
      ['uint16', 65535, 5, 65535],
      ['int32', -2147483648, 6, -2147483648],
      ['uint32', 4294967295, 7, 4294967295],
      ['int64', -1n, 8, [0xffffffff, 0xffffffff]],
      ['int64', -9007199254740993n, 8, [0xffdfffff, 0xffffffff]],
      ['uint64', 18446744073709551615n, 9, [0xffffffff, 0xffffffff]],
      ['uint64', 4294967296, 9, [1, 0]],
      ['float32', 1.5, 10, 1.5],
      ['float64', 2.25, 11, 2.25],
      ['string', 'x', 12, 'x'],
    ];
    for (const [type, value, dataType, encoded] of rows) {
      assert.deepEqual(toVariantValue(type, value), { ok: true, dataType, value: encoded }, `${type} ${String(value)}`);
    }
    for (const [type, value] of [
      ['int16', 32768],
      ['uint16', -1],
      ['uint32', 1.5],
      ['uint64', -1n],
      ['int64', 9223372036854775808n],
      ['float32', 1e39],
      ['bool', 2],
      ['string', 3],
    ] as const) {
      const r = toVariantValue(type, value);
      assert.ok(!r.ok, `${type} ${String(value)} must be refused`);
    }
  });

  it('decodes variants, 64-bit words to bigint, and refuses another DataType', () => {
    assert.deepEqual(fromVariant('int64', 8, [0xffffffff, 0xfffffffe]), { ok: true, value: -2n });
    assert.deepEqual(fromVariant('uint64', 9, [0xffffffff, 0xfffffffe]), { ok: true, value: 18446744073709551614n });
    assert.deepEqual(fromVariant('float64', 11, new Float64Array([4.5])), { ok: true, value: 4.5 });
    assert.deepEqual(fromVariant('string', 12, null), { ok: true, value: '' });
    const r = fromVariant('int16', 11, 3.5);
    assert.ok(!r.ok);
    assert.match(r.message, /DataType Double, the point is int16/);
    assert.ok(!fromVariant('float64', 11, [1, 2]).ok);
  });

  it('maps Bad statuses to codes, keeping the status name and the point name', () => {
    const e = statusError('temp', { value: 0x80340000, name: 'BadNodeIdUnknown' }, 'read');
    assert.equal(e.code, 'BadAddress');
    assert.equal(e.message, 'point "temp": read failed with BadNodeIdUnknown (0x80340000)');
    assert.deepEqual(e.detail, { status: 'BadNodeIdUnknown', statusCode: 0x80340000 });
    assert.equal(statusError('x', { value: 0x803b0000, name: 'BadNotWritable' }, 'write').code, 'Unsupported');
    assert.equal(statusError('x', { value: 0x80740000, name: 'BadTypeMismatch' }, 'write').code, 'BadValue');
    assert.equal(statusError('x', { value: 0x808c0000, name: 'BadSensorFailure' }, 'read').code, 'Exception');
  });
});

describe('trust', () => {
  // A DER SEQUENCE with a 2-byte length (0x30 0x82 00 03 …) followed by trailing chain bytes.
  const der = Buffer.from([0x30, 0x82, 0x00, 0x03, 1, 2, 3, 0x30, 0x01, 9]);

  it('takes the first certificate of a chain for the thumbprint', () => {
    assert.deepEqual([...firstDer(der)], [0x30, 0x82, 0x00, 0x03, 1, 2, 3]);
    assert.equal(thumbprint(der), thumbprint(Buffer.from([0x30, 0x82, 0x00, 0x03, 1, 2, 3])));
  });

  it('pins on first use (logged), accepts the same certificate, refuses another', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-opcua-trust-'));
    try {
      const paths = pkiPaths(dir);
      const log = memoryLogger();
      const c = opcuaConnectionSchema.parse({ endpoint: 'opc.tcp://h:1' });
      assert.deepEqual(decideTrust('opc.tcp://h:1', der, c, paths, log), { trusted: true });
      assert.equal(log.lines.filter((l) => l.level === 'warn').length, 1);
      assert.equal(JSON.parse(readFileSync(paths.pinned, 'utf8'))['opc.tcp://h:1'], thumbprint(der));
      assert.deepEqual(decideTrust('opc.tcp://h:1', der, c, paths, log), { trusted: true });
      const other = decideTrust('opc.tcp://h:1', Buffer.from([0x30, 0x01, 7]), c, paths, log);
      assert.equal(other.trusted, false);
      assert.equal(other.detail?.reason, 'ServerCertificateChanged');
      const listed = opcuaConnectionSchema.parse({ endpoint: 'opc.tcp://h:1', trust: { policy: 'list', certificates: [thumbprint(der).toUpperCase()] } });
      assert.equal(decideTrust('opc.tcp://h:2', der, listed, paths, log).trusted, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('does not load node-opcua when only the descriptor is imported', () => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', "import { createRequire } from 'node:module'; await import('./src/drivers/opcua/index.ts'); const r = createRequire(import.meta.url); console.log(Object.keys(r.cache).filter((k) => k.includes('node-opcua')).length);"],
    { cwd: path.resolve(import.meta.dirname, '../..'), encoding: 'utf8' },
  );
  assert.equal(out.trim(), '0');
});
