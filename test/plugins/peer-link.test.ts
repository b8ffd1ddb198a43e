/** A plugin folder that was never installed gets the running gateway linked in as `fieldgate`. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { linkSdkPeer } from '../../src/gateway/plugins/peer.ts';

const root = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'fieldgate-peer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pkg(name: string, json: object): string {
  const p = path.join(dir, name);
  mkdirSync(path.join(p, 'src'), { recursive: true });
  writeFileSync(path.join(p, 'package.json'), JSON.stringify(json));
  writeFileSync(path.join(p, 'src/index.ts'), 'export default {};\n');
  return path.join(p, 'src/index.ts');
}

test('a package that wants fieldgate and cannot resolve it is linked to this gateway, once', () => {
  const file = pkg('wants', { name: 'fieldgate-driver-x', peerDependencies: { fieldgate: '>=0.1.0' } });
  const link = linkSdkPeer(file);
  assert.equal(link, path.join(dir, 'wants/node_modules/fieldgate'));
  assert.equal(realpathSync(link), realpathSync(root));
  assert.equal(JSON.parse(readFileSync(path.join(link, 'package.json'), 'utf8')).name, 'fieldgate');
  assert.equal(linkSdkPeer(file), undefined, 'already resolvable: nothing to do');
});

test('a package that does not depend on fieldgate is left alone', () => {
  const file = pkg('plain', { name: 'plain' });
  assert.equal(linkSdkPeer(file), undefined);
});
