/**
 * A real small filesystem for "disk full" scenarios: a tmpfs of a few MB mounted on a temp
 * folder (root only; CI runs as root). `fill` takes all but a few KB with a filler file, `free`
 * deletes it: the disk is full, then space returns, as when an operator cleans up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallDisk {
  readonly dir: string;
  /** Free bytes as the filesystem reports them. */
  available(): number;
  /** Writes a filler file so that about `leave` bytes stay free. */
  fill(leave: number): void;
  /** Deletes the filler. */
  free(): void;
  /** Unmounts and removes the folder (everything on the disk is gone). */
  remove(): void;
}

/** Mounts a tmpfs of `bytes`; `undefined` with the reason when that is not possible (not root, no mount). */
export function mountSmallDisk(bytes: number): SmallDisk | { readonly unavailable: string } {
  if (process.getuid?.() !== 0) return { unavailable: 'not root: mount -t tmpfs needs root' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-smalldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { unavailable: `mount -t tmpfs failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}` };
  }
  const filler = path.join(dir, 'filler.bin');
  const available = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    available,
    fill(leave) {
      const n = available() - leave;
      try {
        if (n > 0) writeFileSync(filler, Buffer.alloc(n));
      } catch (e) {
        // The gateway took some of the space meanwhile: the disk is full either way.
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    },
    free() {
      try {
        unlinkSync(filler);
      } catch {
        // already gone
      }
    },
    remove() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
