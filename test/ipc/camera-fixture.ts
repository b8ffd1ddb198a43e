/**
 * Shared by the camera driver tests: one camera simulator per file, a data dir, and small helpers
 * to build connections and points and to open a session on the real driver.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimOptions, CameraSimulator } from '../../simulators/ipc/index.ts';
import { descriptor } from '../../src/drivers/ipc/index.ts';
import type { IpcAddress } from '../../src/drivers/ipc/address.ts';
import type { IpcConnection } from '../../src/drivers/ipc/connection.ts';
import type { Driver, DriverContext, Point, PointError, ReadResult, Session } from '../../src/drivers/sdk/index.ts';
import type { PointType } from '../../src/devicemodel/types.ts';
import { memoryLogger } from '../helpers/log.ts';

export const USER = 'admin';
export const PASS = 's3cret';

/** A simulator with USER/PASS and a data dir; `start()` in `before`, `stop()` in `after`. */
export class CameraFixture {
  sim!: CameraSimulator;
  dataDir!: string;

  constructor(
    private readonly label: string,
    private readonly opts: CameraSimOptions = {},
  ) {}

  async start(): Promise<void> {
    this.dataDir = mkdtempSync(path.join(os.tmpdir(), `fieldgate-ipc-${this.label}-`));
    this.sim = await startCameraSimulator({ username: USER, password: PASS, ...this.opts });
  }

  async stop(): Promise<void> {
    await this.sim?.stop();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  context(): DriverContext {
    return {
      log: memoryLogger(),
      clock: { now: () => Date.now(), monotonic: () => performance.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
      metrics: { count: () => undefined },
      signal: new AbortController().signal,
      dataDir: this.dataDir,
    };
  }

  conn(extra: Record<string, unknown> = {}): IpcConnection {
    return descriptor.connectionSchema.parse({ ip: '127.0.0.1', port: this.sim.port, username: USER, password: PASS, timeout: '4s', ...extra });
  }

  async open(c: IpcConnection): Promise<{ driver: Driver<IpcConnection, IpcAddress>; session: Session<IpcConnection, IpcAddress>; lost: PointError[] }> {
    const driver = descriptor.create(this.context());
    const lost: PointError[] = [];
    const session = await driver.connect(c, { signal: new AbortController().signal, onLost: (e) => lost.push(e) });
    return { driver, session, lost };
  }
}

/** A point of the camera driver. */
export function pt(id: string, address: string, type: PointType): Point<IpcAddress> {
  return { id, name: `p${id}`, type, address: descriptor.addressSchema.parse(address) };
}

/** The good value of point `id` (fails the test when it is missing or not good). */
export function value(rs: ReadResult[], id: string): unknown {
  const r = rs.find((x) => x.id === id);
  assert.ok(r, `no result for ${id}`);
  assert.equal(r.quality, 'good', `point ${id}: ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  return (r as { value: unknown }).value;
}
