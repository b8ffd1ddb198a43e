/** Starts a cloud simulator, a real SQLite store and a CloudSync against it; stops all of them. */
import { openShadowStore } from '../../src/shadow/store.ts';
import type { ShadowStore, ShadowStoreOptions } from '../../src/shadow/store-api.ts';
import { CloudSync, type CloudSyncOptions } from '../../src/shadow/sync/cloud-sync.ts';
import { startCloudSimulator, type CloudSimulator } from '../../simulators/cloud/index.ts';
import { recordingLogger, tempDir, waitUntil } from './helpers.ts';

export const NODE = 'node-1';

export interface Rig {
  cloud: CloudSimulator;
  store: ShadowStore;
  sync: CloudSync;
  log: ReturnType<typeof recordingLogger>;
  file: string;
  /** store.report + sync.reported, as the gateway does. */
  report(device: string, props: Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function rig(
  opts: { store?: ShadowStoreOptions; sync?: Partial<Omit<CloudSyncOptions, 'store' | 'log' | 'node'>>; cloudDown?: boolean; httpPort?: number } = {},
): Promise<Rig> {
  const tmp = tempDir('fg-cloud-');
  const cloud = await startCloudSimulator({ port: 0, keepHistory: true, ...(opts.httpPort !== undefined ? { httpPort: opts.httpPort } : {}) });
  if (opts.cloudDown) await cloud.stop();
  const file = tmp.file('shadow.db');
  const store = openShadowStore(file, { batchMs: 10, ...opts.store });
  const log = recordingLogger();
  const sync = new CloudSync({
    link: { url: cloud.url, clientId: 'fieldgate-test', reconnectMinMs: 100, reconnectMaxMs: 400, connectTimeoutMs: 2000 },
    node: NODE,
    store,
    log,
    ...opts.sync,
  });
  sync.start();
  if (!opts.cloudDown) await waitUntil(() => sync.state === 'online', 5000, 'cloud link online');
  return {
    cloud,
    store,
    sync,
    log,
    file,
    report(device, props) {
      const ts = Date.now();
      const upd: Record<string, { value: never; ts: number; quality: 'good' }> = {};
      for (const [k, v] of Object.entries(props)) upd[k] = { value: v as never, ts, quality: 'good' };
      store.report(device, upd);
      sync.reported(device, upd);
    },
    async close() {
      await sync.stop();
      store.close();
      await cloud.close();
      tmp.remove();
    },
  };
}
