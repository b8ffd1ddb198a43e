/**
 * The go-plugin handshake line (go-plugin docs/internals.md "Handshake"; client.go Start): the
 * pure parser as a table, then the reader against real child processes (good line, malformed
 * line, no line in time, exit before the line). Also program.yml's entry line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { decodeHandshake, parseHandshakeLine, readHandshake } from '../../src/gateway/baetyl-host/handshake.ts';
import { entryCommand, parseProgram } from '../../src/gateway/baetyl-host/program.ts';

const GOOD: [string, string, { network: string; address: string }][] = [
  ['Baetyl SDK line', '1|1|tcp|127.0.0.1:41234|grpc', { network: 'tcp', address: '127.0.0.1:41234' }],
  ['trailing CR/space trimmed (strings.TrimSpace)', '1|1|tcp|127.0.0.1:1234|grpc \r', { network: 'tcp', address: '127.0.0.1:1234' }],
  ['unix socket', '1|1|unix|/tmp/plugin123/plugin.sock|grpc', { network: 'unix', address: '/tmp/plugin123/plugin.sock' }],
  ['6th field shorter than 50 chars ignored (old "extra" data)', '1|1|tcp|127.0.0.1:1234|grpc|', { network: 'tcp', address: '127.0.0.1:1234' }],
];

test('good handshake lines parse', () => {
  for (const [what, line, want] of GOOD) {
    const r = parseHandshakeLine(line);
    assert.equal(r.kind, 'ok', what);
    if (r.kind !== 'ok') continue;
    assert.deepEqual({ network: r.value.network, address: r.value.address }, want, what);
    assert.equal(r.value.core, 1, what);
    assert.equal(r.value.app, 1, what);
    assert.equal(r.value.protocol, 'grpc', what);
  }
});

const BAD: [string, string, RegExp][] = [
  ['empty line', '', /1 field/],
  ['three fields', '1|1|tcp', /3 field/],
  ['a log line instead', 'starting driver...', /1 field/],
  ['core version 2', '2|1|tcp|127.0.0.1:1234|grpc', /core protocol version 2/],
  ['core not a number', 'x|1|tcp|127.0.0.1:1234|grpc', /core protocol version "x" is not a number/],
  ['app version 3 (not Baetyl)', '1|3|tcp|127.0.0.1:1234|grpc', /app protocol version 3, this host accepts 1/],
  ['network udp', '1|1|udp|127.0.0.1:1234|grpc', /network type "udp"/],
  ['tcp without port', '1|1|tcp|127.0.0.1|grpc', /not host:port/],
  ['tcp port 0', '1|1|tcp|127.0.0.1:0|grpc', /not host:port/],
  ['no protocol = net/rpc', '1|1|tcp|127.0.0.1:1234', /net\/rpc/],
  ['protocol netrpc', '1|1|tcp|127.0.0.1:1234|netrpc', /protocol "netrpc", expected grpc/],
  ['AutoMTLS certificate', `1|1|tcp|127.0.0.1:1234|grpc|${'A'.repeat(60)}`, /AutoMTLS/],
];

test('malformed handshake lines are refused with a Protocol error that quotes the line', () => {
  for (const [what, line, re] of BAD) {
    const r = parseHandshakeLine(line);
    assert.equal(r.kind, 'error', what);
    if (r.kind !== 'error') continue;
    assert.equal(r.error.code, 'Protocol', what);
    assert.match(r.error.message, re, what);
    assert.match(r.error.message, /expected e\.g\. "1\|1\|tcp\|127\.0\.0\.1:1234\|grpc"/, what);
  }
});

test('decodeHandshake waits for the newline and reports what it consumed', () => {
  assert.deepEqual(decodeHandshake('1|1|tcp|127.0.0.1:12'), { kind: 'incomplete' });
  const r = decodeHandshake('1|1|tcp|127.0.0.1:1234|grpc\nlater output');
  assert.equal(r.kind, 'ok');
  if (r.kind === 'ok') assert.equal(r.consumed, '1|1|tcp|127.0.0.1:1234|grpc\n'.length);
  const long = decodeHandshake('x'.repeat(5000));
  assert.equal(long.kind, 'error');
});

/** Runs `sh -c script` and reads its handshake. */
function run(script: string, timeoutMs: number) {
  const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  const result = readHandshake({ stdout: child.stdout, exited, stderrTail: () => err }, timeoutMs);
  return { child, exited, result };
}

test('readHandshake against real processes', async (t) => {
  await t.test('a good line, split over two writes, with more output after it', async () => {
    const { result, exited } = run("printf '1|1|tcp|127.0.0.1:'; sleep 0.1; printf '5555|grpc\\nhello\\n'", 5000);
    const r = await result;
    assert.equal(r.handshake.address, '127.0.0.1:5555');
    await exited;
  });
  await t.test('a malformed line', async () => {
    const { result, child, exited } = run("echo 'listening on 5555'; exec sleep 5", 5000);
    await assert.rejects(result, (e: any) => e.code === 'Protocol' && /listening on 5555/.test(e.message));
    child.kill('SIGKILL');
    await exited;
  });
  await t.test('no line within the timeout', async () => {
    const started = Date.now();
    const { result, child, exited } = run('exec sleep 5', 300);
    await assert.rejects(result, (e: any) => e.code === 'Timeout' && /within 300 ms/.test(e.message));
    assert.ok(Date.now() - started < 2000);
    child.kill('SIGKILL');
    await exited;
  });
  await t.test('the process exits before the line', async () => {
    const { result } = run("echo 'config missing' >&2; exit 3", 5000);
    await assert.rejects(result, (e: any) => e.code === 'Offline' && /code 3/.test(e.message) && /config missing/.test(e.message) && e.detail.exitCode === 3);
  });
});

test('program.yml entry: $PATH is the folder, split on white space, no shell', () => {
  assert.deepEqual(parseProgram('entry: "java -jar $PATH/custom-java.jar"\n', '/opt/drv'), { entry: 'java -jar /opt/drv/custom-java.jar', command: 'java', args: ['-jar', '/opt/drv/custom-java.jar'] });
  assert.deepEqual(entryCommand('$PATH/bin/custom  --conf $PATH/etc', '/d'), { entry: '/d/bin/custom  --conf /d/etc', command: '/d/bin/custom', args: ['--conf', '/d/etc'] });
  assert.throws(() => parseProgram('name: x\n', '/d'), (e: any) => e.code === 'Config' && /needs entry/.test(e.message));
  assert.throws(() => parseProgram('entry: "   "\n', '/d'), (e: any) => e.code === 'Config');
});
