/**
 * A small ZIP writer (deflate or store, no ZIP64) built on node:zlib, so that packaging needs no
 * `zip` program on the build machine. Unix permission bits are recorded in each entry's external
 * attributes with "version made by" = Unix, which is how unzip and Go's archive/zip (used by
 * Baetyl to unpack program packages) learn that the entry script is executable.
 *
 * Record layouts: PKWARE APPNOTE.TXT 6.3.x, §4.3.7 local file header, §4.3.12 central directory
 * header, §4.3.16 end of central directory record, §4.4.6 MS-DOS date and time.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import zlib from 'node:zlib';

/** Where the archive's bytes go, in order. */
export interface ZipSink {
  write(chunk: Uint8Array): void;
}

/** Per-entry options. */
export interface ZipEntryOptions {
  /** Unix permission bits (e.g. 0o755); default 0o644 for files, 0o755 for directories. */
  readonly mode?: number;
  /** Modification time; stored as MS-DOS date/time in UTC (2-second resolution). Default 1980-01-01. */
  readonly mtime?: Date;
  /** Deflate level 0-9; 0 stores. Default 6. */
  readonly level?: number;
}

/** Why an archive cannot be written without ZIP64. */
export class ZipLimitError extends Error {
  readonly code = 'ZipLimit';
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
/** Version needed to extract: 2.0 (deflate, directories). */
const VERSION_NEEDED = 20;
/** Version made by: host system 3 (Unix) in the high byte, spec 2.0 in the low one (APPNOTE §4.4.2). */
const VERSION_MADE_BY = (3 << 8) | 20;
/** General purpose flag bit 11: names are UTF-8 (APPNOTE §4.4.4). */
const FLAG_UTF8 = 1 << 11;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

interface CentralRecord {
  readonly name: Uint8Array;
  readonly flags: number;
  readonly method: number;
  readonly time: number;
  readonly date: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly externalAttr: number;
  readonly offset: number;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309 / ITU-T V.42, as ZIP uses it), computed with a 256-entry table. */
export function crc32Portable(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = (crcTable[(c ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32: node:zlib's when this Node has it (20.15 and later), else {@link crc32Portable}. */
export function crc32(data: Uint8Array): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  return typeof native === 'function' ? native(data) >>> 0 : crc32Portable(data);
}

/** MS-DOS time and date words of `d` in UTC; years before 1980 clamp to 1980-01-01 00:00:00. */
export function dosDateTime(d: Date): { time: number; date: number } {
  if (d.getUTCFullYear() < 1980) return { time: 0, date: (1 << 5) | 1 };
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return { time, date };
}

/** Writes a ZIP archive entry by entry; call {@link ZipWriter.finish} once at the end. */
export class ZipWriter {
  readonly #sink: ZipSink;
  readonly #central: CentralRecord[] = [];
  readonly #names = new Set<string>();
  #offset = 0;
  #finished = false;

  constructor(sink: ZipSink) {
    this.#sink = sink;
  }

  /** Entries written so far. */
  get count(): number {
    return this.#central.length;
  }

  /** Adds a file; `name` uses `/` and is relative (no leading `/`, no `..`). */
  addFile(name: string, data: Uint8Array, opts: ZipEntryOptions = {}): void {
    const level = opts.level ?? 6;
    let method = 0;
    let body = data;
    if (level > 0 && data.length > 0) {
      const deflated = zlib.deflateRawSync(data, { level });
      // Keep whichever is smaller, as zip(1) does: already-compressed files are stored.
      if (deflated.length < data.length) {
        method = 8;
        body = deflated;
      }
    }
    this.#entry(name, body, { method, crc: crc32(data), size: data.length, attr: S_IFREG | ((opts.mode ?? 0o644) & 0o7777), mtime: opts.mtime });
  }

  /** Adds a directory entry (`name` without or with the trailing `/`). */
  addDirectory(name: string, opts: Pick<ZipEntryOptions, 'mode' | 'mtime'> = {}): void {
    const n = name.endsWith('/') ? name : `${name}/`;
    this.#entry(n, new Uint8Array(0), { method: 0, crc: 0, size: 0, attr: S_IFDIR | ((opts.mode ?? 0o755) & 0o7777), mtime: opts.mtime, dosDir: true });
  }

  /** Writes the central directory and the end record. */
  finish(): void {
    if (this.#finished) throw new Error('ZipWriter.finish called twice');
    this.#finished = true;
    const start = this.#offset;
    for (const r of this.#central) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(SIG_CENTRAL, 0);
      h.writeUInt16LE(VERSION_MADE_BY, 4);
      h.writeUInt16LE(VERSION_NEEDED, 6);
      h.writeUInt16LE(r.flags, 8);
      h.writeUInt16LE(r.method, 10);
      h.writeUInt16LE(r.time, 12);
      h.writeUInt16LE(r.date, 14);
      h.writeUInt32LE(r.crc, 16);
      h.writeUInt32LE(r.compressedSize, 20);
      h.writeUInt32LE(r.size, 24);
      h.writeUInt16LE(r.name.length, 28);
      // extra field length (30), comment length (32), disk number start (34), internal attributes (36): 0
      h.writeUInt32LE(r.externalAttr >>> 0, 38);
      h.writeUInt32LE(r.offset, 42);
      this.#put(h);
      this.#put(r.name);
    }
    const size = this.#offset - start;
    if (this.#central.length > MAX16) throw new ZipLimitError(`${this.#central.length} entries: more than 65535 needs ZIP64, which this writer does not do`);
    if (start > MAX32 || size > MAX32) throw new ZipLimitError('the archive passes 4 GiB: that needs ZIP64, which this writer does not do');
    const e = Buffer.alloc(22);
    e.writeUInt32LE(SIG_END, 0);
    // number of this disk (4) and of the disk with the central directory (6): 0
    e.writeUInt16LE(this.#central.length, 8);
    e.writeUInt16LE(this.#central.length, 10);
    e.writeUInt32LE(size, 12);
    e.writeUInt32LE(start, 16);
    // comment length (20): 0
    this.#put(e);
  }

  #entry(name: string, body: Uint8Array, m: { method: number; crc: number; size: number; attr: number; mtime: Date | undefined; dosDir?: boolean }): void {
    if (this.#finished) throw new Error('ZipWriter: entry added after finish');
    if (name === '' || name.startsWith('/') || name.includes('\\') || name.split('/').includes('..')) {
      throw new Error(`ZipWriter: ${JSON.stringify(name)} is not a relative path with "/" separators`);
    }
    if (this.#names.has(name)) throw new Error(`ZipWriter: ${name} added twice`);
    this.#names.add(name);
    if (m.size > MAX32 || body.length > MAX32 || this.#offset > MAX32) throw new ZipLimitError(`${name}: sizes or offsets past 4 GiB need ZIP64, which this writer does not do`);
    const nameBytes = Buffer.from(name, 'utf8');
    const flags = /^[\x20-\x7e]*$/.test(name) ? 0 : FLAG_UTF8;
    const { time, date } = dosDateTime(m.mtime ?? new Date(Date.UTC(1980, 0, 1)));
    const h = Buffer.alloc(30);
    h.writeUInt32LE(SIG_LOCAL, 0);
    h.writeUInt16LE(VERSION_NEEDED, 4);
    h.writeUInt16LE(flags, 6);
    h.writeUInt16LE(m.method, 8);
    h.writeUInt16LE(time, 10);
    h.writeUInt16LE(date, 12);
    h.writeUInt32LE(m.crc, 14);
    h.writeUInt32LE(body.length, 18);
    h.writeUInt32LE(m.size, 22);
    h.writeUInt16LE(nameBytes.length, 26);
    // extra field length (28): 0
    const offset = this.#offset;
    this.#put(h);
    this.#put(nameBytes);
    this.#put(body);
    // Unix mode in the high 16 bits; the MS-DOS directory attribute (0x10) in the low byte for directories.
    const externalAttr = ((m.attr << 16) | (m.dosDir === true ? 0x10 : 0)) >>> 0;
    this.#central.push({ name: nameBytes, flags, method: m.method, time, date, crc: m.crc, compressedSize: body.length, size: m.size, externalAttr, offset });
  }

  #put(b: Uint8Array): void {
    this.#sink.write(b);
    this.#offset += b.length;
  }
}

/** A sink writing to a file (created or truncated); call `close()` after `finish()`. */
export function fileSink(file: string): ZipSink & { close(): void } {
  const fd = openSync(file, 'w', 0o644);
  return {
    write(chunk) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
    },
    close() {
      closeSync(fd);
    },
  };
}

/** A sink collecting the archive in memory (for tests and small archives). */
export function memorySink(): ZipSink & { bytes(): Buffer } {
  const parts: Uint8Array[] = [];
  return {
    write(chunk) {
      parts.push(Buffer.from(chunk));
    },
    bytes() {
      return Buffer.concat(parts);
    },
  };
}
