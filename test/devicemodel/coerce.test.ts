import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coerceToModel, validateDesired } from '../../src/devicemodel/coerce.ts';
import type { ModelProperty } from '../../src/devicemodel/compiled.ts';
import type { AttributeValue, ModelType } from '../../src/devicemodel/types.ts';

const prop = (type: ModelType, extra: Partial<ModelProperty> = {}): ModelProperty => ({ name: 'p', type, mode: 'rw', ...extra });

test('coerceToModel: int types truncate toward zero and range-check per width', () => {
  const ok: [ModelType, AttributeValue, AttributeValue][] = [
    ['int16', 12.9, 12],
    ['int16', -12.9, -12],
    ['int16', -0.5, 0],
    ['int32', 2147483647.9, 2147483647],
    ['uint16', 65535, 65535],
    ['int', 3.7, 3],
    ['int', 2 ** 40 + 0.5, 2 ** 40],
    ['int64', 9223372036854775807n, 9223372036854775807n],
    ['uint64', 18446744073709551615n, 18446744073709551615n],
    ['int16', 300n, 300],
    ['int32', true, 1],
    ['int32', ' 42 ', 42],
    ['int32', '-7.8', -7],
    ['uint64', '18446744073709551615', 18446744073709551615n],
  ];
  for (const [type, input, expected] of ok) {
    assert.deepEqual(coerceToModel(prop(type), input), { ok: true, value: expected }, `${type} ${String(input)}`);
  }
  const bad: [ModelType, AttributeValue, RegExp][] = [
    ['int16', 32768, /^p: 32768 is out of the int16 range \[-32768, 32767\]$/],
    ['uint16', -1, /uint16 range \[0, 65535\]/],
    ['int32', 2147483648.5, /int32 range/],
    ['uint32', 4294967296, /uint32 range/],
    ['int', 2 ** 63, /int range \[-9223372036854775808, 9223372036854775807\]/],
    ['uint64', -1n, /uint64 range/],
    ['int16', NaN, /cannot convert NaN to int16/],
    ['int16', 'abc', /cannot convert string "abc" to int16/],
    ['int16', null, /^p: no value for int16$/],
    ['int16', [1], /cannot convert an array to int16/],
  ];
  for (const [type, input, message] of bad) {
    const r = coerceToModel(prop(type), input);
    assert.equal(r.ok, false, `${type} ${String(input)}`);
    if (!r.ok) assert.match(r.error, message);
  }
});

test('coerceToModel: floats, bool, string, enum, time/date, array, object', () => {
  const ok: [ModelProperty, AttributeValue, AttributeValue][] = [
    [prop('float32'), 315.88257, 315.88257], // kept as is, not squeezed through Math.fround
    [prop('float64'), 12n, 12],
    [prop('float64'), false, 0],
    [prop('float64'), '1.5e3', 1500],
    [prop('bool'), 2, true],
    [prop('bool'), 0, false],
    [prop('bool'), 0n, false],
    [prop('bool'), 'true', true],
    [prop('bool'), '0', false],
    [prop('string'), 12.5, '12.5'],
    [prop('string'), true, 'true'],
    [prop('string'), 18446744073709551615n, '18446744073709551615'],
    [prop('string'), { a: 1n }, '{"a":1}'],
    [prop('enum', { enumValues: ['auto', 'manual'] }), 'auto', 'auto'],
    [prop('enum', { enumValues: ['1', '2'] }), 2, '2'],
    [prop('enum', { enumValues: [0, 1] }), '1', 1],
    [prop('enum'), 'anything', 'anything'],
    [prop('time'), '12:30:00', '12:30:00'],
    [prop('date'), '2024-01-02', '2024-01-02'],
    [prop('array'), [1, 'a'], [1, 'a']],
    [prop('array', { arrayItemType: 'int16' }), [1.5, 2], [1, 2]],
    [prop('object'), { a: 1 }, { a: 1 }],
  ];
  for (const [p, input, expected] of ok) {
    assert.deepEqual(coerceToModel(p, input), { ok: true, value: expected }, `${p.type} ${JSON.stringify(String(input))}`);
  }
  const bad: [ModelProperty, AttributeValue, RegExp][] = [
    [prop('float32'), 1e39, /out of the float32 range/],
    [prop('float64'), 'x', /cannot convert string "x" to float64/],
    [prop('float64'), Infinity, /cannot convert Infinity/],
    [prop('bool'), 'yes', /cannot convert string "yes" to bool/],
    [prop('enum', { enumValues: ['auto', 'manual'] }), 'off', /^p: string "off" is not one of "auto", "manual"$/],
    [prop('time'), 5, /expected text for time, got 5/],
    [prop('array', { arrayItemType: 'int16' }), [1, 70000], /^p\[1\]: 70000 is out of the int16 range/],
    [prop('array'), 'x', /expected an array/],
    [prop('object'), [1], /expected an object, got an array/],
  ];
  for (const [p, input, message] of bad) {
    const r = coerceToModel(p, input);
    assert.equal(r.ok, false, `${p.type} ${String(input)}`);
    if (!r.ok) assert.match(r.error, message);
  }
});

test('validateDesired accepts well-typed values', () => {
  const ok: [ModelProperty, unknown, unknown][] = [
    [prop('int16'), -32768, -32768],
    [prop('int32', { min: 0, max: 100 }), 100, 100],
    [prop('int64'), 9223372036854775807n, 9223372036854775807n],
    [prop('uint64'), 2 ** 53, 2 ** 53],
    [prop('int'), -5, -5],
    [prop('float32'), 21.5, 21.5],
    [prop('float64', { min: -1.5, max: 1.5 }), -1.5, -1.5],
    [prop('bool'), true, true],
    [prop('bool'), 0, false],
    [prop('bool'), 1, true],
    [prop('string'), '', ''],
    [prop('time'), '08:00:00', '08:00:00'],
    [prop('enum', { enumValues: ['auto', 'manual', 3] }), 3, 3],
    [prop('enum', { enumValues: ['auto', 'manual'] }), 'manual', 'manual'],
  ];
  for (const [p, input, expected] of ok) {
    assert.deepEqual(validateDesired(p, input), { ok: true, value: expected }, `${p.type} ${String(input)}`);
  }
});

test('validateDesired rejects with messages that name the property', () => {
  const temperature: ModelProperty = { name: 'temperature', type: 'float32', mode: 'rw', min: -40, max: 120 };
  const table: [ModelProperty, unknown, string][] = [
    [{ name: 'humidity', type: 'float32', mode: 'ro' }, 50, 'humidity is read-only (mode: ro)'],
    [temperature, 'abc', 'temperature: expected a number (float32), got string "abc"'],
    [temperature, '21.5', 'temperature: expected a number (float32), got string "21.5"'],
    [temperature, true, 'temperature: expected a number (float32), got true'],
    [temperature, 121, 'temperature: 121 is above the maximum 120 (range [-40, 120])'],
    [temperature, -41, 'temperature: -41 is below the minimum -40 (range [-40, 120])'],
    [temperature, null, 'temperature: null is not a value (null means "no change")'],
    [temperature, { v: 1 }, 'temperature: expected a number (float32), got an object'],
    [{ ...temperature, min: undefined, max: undefined }, 1e39, 'temperature: 1e+39 is out of the float32 range'],
    [{ name: 'sp', type: 'int16', mode: 'rw' }, 1.5, 'sp: expected an integer (int16), got 1.5'],
    [{ name: 'sp', type: 'int16', mode: 'rw' }, 70000, 'sp: 70000 is out of the int16 range [-32768, 32767]'],
    [{ name: 'sp', type: 'uint16', mode: 'rw' }, -1, 'sp: -1 is out of the uint16 range [0, 65535]'],
    [{ name: 'sp', type: 'int32', mode: 'rw', min: 10 }, 5, 'sp: 5 is below the minimum 10'],
    [{ name: 'sp', type: 'int64', mode: 'rw' }, 2n ** 63n, 'sp: 9223372036854775808 is out of the int64 range [-9223372036854775808, 9223372036854775807]'],
    [{ name: 'sp', type: 'int32', mode: 'rw' }, '7', 'sp: expected an integer (int32), got string "7"'],
    [{ name: 'on', type: 'bool', mode: 'rw' }, 2, 'on: expected a boolean (true/false or 0/1), got 2'],
    [{ name: 'on', type: 'bool', mode: 'rw' }, 'true', 'on: expected a boolean (true/false or 0/1), got string "true"'],
    [{ name: 'label', type: 'string', mode: 'rw' }, 5, 'label: expected text (string), got 5'],
    [{ name: 'm', type: 'enum', mode: 'rw', enumValues: ['auto', 'manual'] }, 'off', 'm: string "off" is not one of "auto", "manual"'],
    [{ name: 'm', type: 'enum', mode: 'rw', enumValues: [1, 2] }, '1', 'm: string "1" is not one of 1, 2'],
    [{ name: 'list', type: 'array', mode: 'rw' }, [1], 'list: properties of type array cannot be written'],
  ];
  for (const [p, input, message] of table) {
    assert.deepEqual(validateDesired(p, input), { ok: false, error: message }, `${p.name} ${String(input)}`);
  }
});
