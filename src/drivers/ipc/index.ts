/**
 * The IP camera driver (`visitor.ipc`, `accessConfig.ipc`): ONVIF cameras through agsh's `onvif`
 * package (device information, profiles, stream and snapshot URIs, PTZ, pull-point events) and
 * cameras without ONVIF through a bare RTSP URL; stream health by ffprobe, snapshots as JPEG files,
 * and a supervised ffmpeg relay (edge re-streaming). See docs/cameras.md.
 */
import type { DriverContext, DriverDescriptor } from '../sdk/index.ts';
import { checkIpcPoint, ipcAddressSchema } from './address.ts';
import type { IpcAddress } from './address.ts';
import { ipcConnectionSchema, ipcLinkKey } from './connection.ts';
import type { IpcConnection } from './connection.ts';
import { newMemory } from './device.ts';
import type { DeviceMemory } from './device.ts';
import { IpcSession } from './session.ts';

/** The IP camera driver descriptor. */
export const descriptor: DriverDescriptor<IpcConnection, IpcAddress> = {
  id: 'ipc',
  version: '0.1.0',
  // sink.event (camera events) is SDK 1.1; with a 1.0 gateway events are dropped, the rest works.
  sdkVersion: '^1.0.0',
  title: 'IP camera (ONVIF / RTSP)',
  connectionSchema: ipcConnectionSchema,
  addressSchema: ipcAddressSchema,
  checkPoint: checkIpcPoint,
  capabilities: {
    read: true,
    write: true,
    // Pull-point events (and the per-device snapshot schedule and relay, started at subscribe).
    subscribe: true,
    discover: false,
    batch: true,
  },
  /**
   * One link per camera. Two calls may overlap, so that a PTZ command does not wait behind a
   * read that waits for the first ffprobe.
   */
  link: (c) => ({ key: ipcLinkKey(c), window: 2 }),
  create: (ctx: DriverContext) => {
    // What must outlive a reconnect: snapshot folders, relay switch and restart counts, last PTZ.
    const memories = new Map<string, DeviceMemory>();
    const memory = (device: string): DeviceMemory => {
      let m = memories.get(device);
      if (m === undefined) memories.set(device, (m = newMemory()));
      return m;
    };
    const sessions = new Set<IpcSession>();
    return {
      connect: async (connection, options) => {
        // The callback runs at close, after `session` is assigned.
        const session: IpcSession = await IpcSession.open(connection, options, ctx, memory, () => sessions.delete(session));
        sessions.add(session);
        return session;
      },
      close: async () => {
        await Promise.allSettled([...sessions].map((s) => s.close()));
      },
    };
  },
};

export default descriptor;
