/**
 * Mutual TLS like baetyl-broker's system listener (`ssl://127.0.0.1:50010` with ca/crt/key,
 * baetyl-conventions.md §4.1), against mosquitto with `require_certificate true`. The CA, server
 * and client certificates are made here with the openssl CLI.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectBroker } from '../../src/gateway/mqtt/connection.ts';
import { memoryLog, waitFor } from './helpers/fixtures.ts';
import { freePort, startMosquitto, tempDir, type Mosquitto } from './helpers/mosquitto.ts';

const tmp = tempDir('fg-tls-');
const file = (name: string) => join(tmp.dir, name);
let mosq: Mosquitto;
let port: number;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: tmp.dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A P-256 key and a certificate for `cn` signed by the test CA, with the given extensions. */
function issue(name: string, cn: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(file(`${name}.ext`), `${ext}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
}

before(async () => {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=fieldgate test CA');
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  issue('client', 'fieldgate-gw', 'extendedKeyUsage=clientAuth');
  port = await freePort();
  mosq = await startMosquitto(tmp.dir, port, [
    `cafile ${file('ca.pem')}`,
    `certfile ${file('server.pem')}`,
    `keyfile ${file('server.key')}`,
    'require_certificate true',
  ]);
});

after(async () => {
  await mosq?.stop();
  tmp.remove();
});

const tlsFiles = () => ({ ca: readFileSync(file('ca.pem')), cert: readFileSync(file('client.pem')), key: readFileSync(file('client.key')) });

for (const scheme of ['mqtts', 'ssl'] as const) {
  test(`mutual TLS with ${scheme}:// and ca/cert/key: online, QoS 1 publish acknowledged, subscription delivers`, async () => {
    const log = memoryLog();
    const link = connectBroker({ url: `${scheme}://127.0.0.1:${port}`, clientId: `gw-tls-${scheme}`, ...tlsFiles() }, log);
    try {
      await waitFor(() => link.state === 'online', 5000, 'TLS link online');
      await link.subscribe([{ topic: 'tls/echo', qos: 1 }]);
      const got: string[] = [];
      link.onMessage((topic, payload) => got.push(`${topic}=${payload.toString()}`));
      await link.publish('tls/echo', 'hello over TLS', { qos: 1 });
      await waitFor(() => got.length === 1, 3000, 'echo');
      assert.deepEqual(got, ['tls/echo=hello over TLS']);
      assert.equal(link.counters.published, 1);
    } finally {
      await link.close();
    }
  });
}

test('without a client certificate the TLS broker refuses the link', async () => {
  const log = memoryLog();
  const link = connectBroker(
    { url: `mqtts://127.0.0.1:${port}`, clientId: 'gw-nocert', ca: readFileSync(file('ca.pem')), reconnectMinMs: 200 },
    log,
  );
  try {
    await waitFor(() => link.state === 'offline', 5000, 'link refused');
    // A few retries: still never online.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(link.state, 'offline');
    assert.equal(link.counters.subacks + link.counters.published + link.counters.reconnects, 0);
    assert.ok(!log.lines.some((l) => l.msg === 'mqtt link online'));
  } finally {
    await link.close();
  }
});

test('a broker certificate from another CA is rejected (rejectUnauthorized default)', async () => {
  const other = tempDir('fg-tls-other-');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'o.key', '-out', 'o.pem', '-days', '1', '-subj', '/CN=other CA'], {
      cwd: other.dir,
      stdio: 'ignore',
    });
    const log = memoryLog();
    const link = connectBroker({ url: `mqtts://127.0.0.1:${port}`, clientId: 'gw-wrongca', ...tlsFiles(), ca: readFileSync(join(other.dir, 'o.pem')), reconnectMinMs: 5000 }, log);
    try {
      await waitFor(() => link.state === 'offline', 5000, 'link refused');
      const offline = log.lines.find((l) => l.msg === 'mqtt link offline');
      assert.match(String(offline?.obj['err']), /certificate/i);
    } finally {
      await link.close();
    }
  } finally {
    other.remove();
  }
});
