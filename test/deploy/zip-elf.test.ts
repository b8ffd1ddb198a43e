/**
 * The packaging building blocks: ELF identification (System V ABI, "ELF Header") from header
 * bytes, and the ZIP writer (PKWARE APPNOTE 6.3.x) checked byte by byte and read back by
 * Python's zipfile, an independent implementation that verifies every CRC.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EM, machineName, readElfIdent } from '../../deploy/package/elf.ts';
import { hostTarget, targetById } from '../../deploy/package/targets.ts';
import { crc32, crc32Portable, dosDateTime, memorySink, ZipWriter } from '../../deploy/package/zip.ts';
import { platformAllows, prebuildFolderMatches } from '../../deploy/package/collect.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('readElfIdent: class, byte order and e_machine of ELF headers; undefined for anything else', () => {
  const cases: [string, string, ReturnType<typeof readElfIdent>][] = [
    // magic      class data ver abi  pad(8)            e_type e_machine
    ['x86-64 shared object (better_sqlite3.node)', '7f454c46 02 01 01 00 0000000000000000 0300 3e00', { bits: 64, littleEndian: true, machine: EM.X86_64 }],
    ['aarch64 executable (esbuild linux-arm64)', '7f454c46 02 01 01 00 0000000000000000 0200 b700', { bits: 64, littleEndian: true, machine: EM.AARCH64 }],
    ['32-bit ARM shared object (armv7 prebuild)', '7f454c46 01 01 01 00 0000000000000000 0300 2800', { bits: 32, littleEndian: true, machine: EM.ARM }],
    ['big-endian MIPS: e_machine read MSB first', '7f454c46 01 02 01 00 0000000000000000 0002 0008', { bits: 32, littleEndian: false, machine: 8 }],
    ['a shell script', Buffer.from('#!/bin/sh\nexec node "$@"\n').toString('hex'), undefined],
    ['a Mach-O binary (darwin prebuild)', 'cffaedfe 0c000001 00000000 02000000 00000000', undefined],
    ['ELF magic with a bad class byte', '7f454c46 05 01 01 00 0000000000000000 0300 3e00', undefined],
    ['too short to hold e_machine', '7f454c46 02 01 01 00', undefined],
  ];
  for (const [what, bytes, want] of cases) assert.deepEqual(readElfIdent(hex(bytes)), want, what);
  assert.equal(machineName(EM.AARCH64), 'ARM aarch64');
  assert.equal(machineName(999), 'e_machine 999');
});

test('targets: Baetyl architecture names map to Node arch and ELF machine; npm os/cpu and prebuild folder rules', () => {
  assert.equal(targetById('linux-arm64-v8')?.nodeArch, 'arm64');
  assert.equal(targetById('linux-arm-v7')?.elfBits, 32);
  assert.equal(targetById('linux-arm64'), undefined, 'only Baetyl\'s exact names');
  assert.equal(hostTarget('linux', 'x64')?.id, 'linux-amd64');
  assert.equal(hostTarget('darwin', 'arm64'), undefined);
  assert.equal(platformAllows(undefined, 'x64'), true);
  assert.equal(platformAllows(['arm64'], 'x64'), false);
  assert.equal(platformAllows(['!win32'], 'linux'), true);
  assert.equal(platformAllows(['!linux'], 'linux'), false);
  const arm64 = targetById('linux-arm64-v8');
  assert.ok(arm64);
  assert.equal(prebuildFolderMatches('linux-arm64', arm64), true);
  assert.equal(prebuildFolderMatches('linux-arm', arm64), false);
  assert.equal(prebuildFolderMatches('darwin-x64+arm64', arm64), false);
  assert.equal(prebuildFolderMatches('linux-x64+arm64', arm64), true);
});

test('crc32 and MS-DOS date/time: check values', () => {
  // The CRC-32 check value of "123456789" (ITU-T V.42 / ISO 3309).
  assert.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Portable(new Uint8Array(0)), 0);
  // 2024-06-10 12:34:56 UTC: time = 12<<11 | 34<<5 | 56/2, date = (2024-1980)<<9 | 6<<5 | 10 (APPNOTE §4.4.6).
  assert.deepEqual(dosDateTime(new Date(Date.UTC(2024, 5, 10, 12, 34, 56))), { time: 0x645c, date: 0x58ca });
  assert.deepEqual(dosDateTime(new Date(0)), { time: 0, date: 0x21 }, 'before 1980 clamps to 1980-01-01');
});

test('ZipWriter: headers byte by byte, Unix modes, and Python reads the archive back intact', () => {
  const sink = memorySink();
  const zip = new ZipWriter(sink);
  const mtime = new Date(Date.UTC(2024, 5, 10, 12, 34, 56));
  const text = Buffer.from('fieldgate '.repeat(200));
  zip.addFile('program.yml', Buffer.from('entry: "fieldgate.sh"\n'), { mtime });
  zip.addFile('fieldgate.sh', Buffer.from('#!/bin/sh\n'), { mode: 0o755, mtime });
  zip.addDirectory('conf', { mtime });
  zip.addFile('conf/gateway.yaml', text, { mtime });
  zip.addFile('conf/empty', new Uint8Array(0), { mtime });
  assert.throws(() => zip.addFile('../escape', Buffer.from('x')), /not a relative path/);
  assert.throws(() => zip.addFile('program.yml', Buffer.from('x')), /added twice/);
  zip.finish();
  assert.throws(() => zip.finish(), /twice/);
  const b = sink.bytes();

  // Local header of program.yml (§4.3.7): signature, version needed 2.0, flags 0, method 0 (22 bytes
  // do not shrink under deflate, so they are stored), time, date, CRC, sizes, name length 11.
  assert.equal(b.subarray(0, 4).toString('hex'), '504b0304');
  assert.equal(b.readUInt16LE(4), 20);
  assert.equal(b.readUInt16LE(8), 0, 'small file stored');
  assert.equal(b.readUInt16LE(10), 0x645c);
  assert.equal(b.readUInt16LE(12), 0x58ca);
  assert.equal(b.readUInt32LE(14), crc32(Buffer.from('entry: "fieldgate.sh"\n')));
  assert.equal(b.readUInt16LE(26), 'program.yml'.length);
  assert.equal(b.subarray(30, 41).toString(), 'program.yml');

  // End of central directory (§4.3.16): 5 entries; the central directory it points at starts with 504b0102.
  const end = b.length - 22;
  assert.equal(b.subarray(end, end + 4).toString('hex'), '504b0506');
  assert.equal(b.readUInt16LE(end + 10), 5);
  const cdStart = b.readUInt32LE(end + 16);
  assert.equal(b.readUInt32LE(end + 12), end - cdStart);
  // Central header of fieldgate.sh, the second one (§4.3.12): made by Unix 2.0 (0x0314), external
  // attributes = (S_IFREG | 0755) << 16 = 0x81ed0000.
  let p = cdStart;
  p += 46 + b.readUInt16LE(p + 28);
  assert.equal(b.readUInt32LE(p), 0x02014b50);
  assert.equal(b.readUInt16LE(p + 4), 0x0314);
  assert.equal(b.subarray(p + 46, p + 46 + 12).toString(), 'fieldgate.sh');
  assert.equal(b.readUInt32LE(p + 38), 0x81ed0000);
  // conf/gateway.yaml (repetitive text) is deflated: method 8 and a smaller compressed size.
  const gw = b.indexOf(Buffer.from('conf/gateway.yaml'));
  assert.equal(b.readUInt16LE(gw - 30 + 8), 8);
  assert.ok(b.readUInt32LE(gw - 30 + 18) < text.length);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-zip-'));
  try {
    const file = path.join(dir, 't.zip');
    writeFileSync(file, b);
    const py = spawnSync(
      '/usr/bin/python3',
      ['-c', 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({"bad":z.testzip(),"e":[[i.filename,oct(i.external_attr>>16),list(i.date_time),i.compress_type,z.read(i).decode()[:20]] for i in z.infolist()]}))', file],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(py.status, 0, py.stderr);
    const got = JSON.parse(py.stdout) as { bad: string | null; e: [string, string, number[], number, string][] };
    assert.equal(got.bad, null);
    assert.deepEqual(got.e, [
      ['program.yml', '0o100644', [2024, 6, 10, 12, 34, 56], 0, 'entry: "fieldgate.sh'],
      ['fieldgate.sh', '0o100755', [2024, 6, 10, 12, 34, 56], 0, '#!/bin/sh\n'],
      ['conf/', '0o40755', [2024, 6, 10, 12, 34, 56], 0, ''],
      ['conf/gateway.yaml', '0o100644', [2024, 6, 10, 12, 34, 56], 8, 'fieldgate fieldgate '],
      ['conf/empty', '0o100644', [2024, 6, 10, 12, 34, 56], 0, ''],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
