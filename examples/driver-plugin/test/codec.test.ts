/** KV/1 codec: byte vectors for every line kind, partial input, and typed values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, parseValue } from '../src/codec.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('requests encode to the documented lines', () => {
  // "GET temp\n"
  assert.deepEqual(encodeRequest({ op: 'GET', key: 'temp' }), hex('47 45 54 20 74 65 6d 70 0a'));
  // "SET fan.on=1\n"
  assert.deepEqual(encodeRequest({ op: 'SET', key: 'fan.on', value: '1' }), hex('53 45 54 20 66 61 6e 2e 6f 6e 3d 31 0a'));
  assert.equal(encodeRequest({ op: 'SUB', key: 'a' }).toString(), 'SUB a\n');
  assert.throws(() => encodeRequest({ op: 'GET', key: 'bad key' }), RangeError);
  assert.throws(() => encodeRequest({ op: 'SET', key: 'k', value: 'a\nb' }), RangeError);
});

test('replies decode with the bytes they used; CRLF accepted; partial lines wait', () => {
  // "OK temp=21.5\r\nEVT"
  const buf = hex('4f 4b 20 74 65 6d 70 3d 32 31 2e 35 0d 0a 45 56 54');
  assert.deepEqual(decodeReply(buf), { kind: 'ok', value: { type: 'OK', key: 'temp', value: '21.5' }, consumed: 14 });
  assert.deepEqual(decodeReply(buf.subarray(14)), { kind: 'incomplete' });
  assert.deepEqual(decodeReply(Buffer.from('ERR nope unknown\n')), { kind: 'ok', value: { type: 'ERR', key: 'nope', reason: 'unknown' }, consumed: 17 });
  assert.deepEqual(decodeReply(Buffer.from('EVT a=x y\n')), { kind: 'ok', value: { type: 'EVT', key: 'a', value: 'x y' }, consumed: 10 });
  const junk = decodeReply(Buffer.from('HELLO\nOK a=1\n'));
  assert.equal(junk.kind, 'error');
  assert.equal(junk.kind === 'error' && junk.consumed, 6);
  const long = decodeReply(Buffer.alloc(2000, 0x41));
  assert.equal(long.kind, 'error');
});

test('requests decode on the instrument side', () => {
  assert.deepEqual(decodeRequest(Buffer.from('SET k=v w\n')), { kind: 'ok', value: { op: 'SET', key: 'k', value: 'v w' }, consumed: 10 });
  assert.deepEqual(decodeRequest(Buffer.from('UNSUB k\n')), { kind: 'ok', value: { op: 'UNSUB', key: 'k' }, consumed: 8 });
  assert.equal(decodeRequest(Buffer.from('DEL k\n')).kind, 'error');
  assert.deepEqual(encodeReply({ type: 'ERR', key: 'k', reason: 'read-only' }).toString(), 'ERR k read-only\n');
});

test('values are typed by the point type, with range checks', () => {
  assert.deepEqual(parseValue('21.5', 'float32'), { ok: true, value: 21.5 });
  assert.deepEqual(parseValue('on', 'bool'), { ok: true, value: true });
  assert.deepEqual(parseValue('0', 'bool'), { ok: true, value: false });
  assert.deepEqual(parseValue('-32768', 'int16'), { ok: true, value: -32768 });
  assert.equal(parseValue('32768', 'int16').ok, false);
  assert.deepEqual(parseValue('9223372036854775807', 'int64'), { ok: true, value: 9223372036854775807n });
  assert.equal(parseValue('1.5', 'int32').ok, false);
  assert.equal(parseValue('', 'float64').ok, false);
  assert.deepEqual(parseValue(' KV 1', 'string'), { ok: true, value: ' KV 1' });
});
