/**
 * Cameras for the compiled devices of a configuration (what `fieldgate simulate` serves for the
 * `ipc` driver): one camera per device, on the device's own `accessConfig.ipc` address.
 *
 * ```yaml
 * # simulator.yaml
 * devices:
 *   gate-cam:
 *     faults: { stream: false }   # no RTSP stream for this camera (saves an encoder)
 * ```
 */
import type { CompiledDevice } from '../../src/devicemodel/compiled.ts';
import type { SimulatorContext } from '../index.ts';
import { loopbackHost, startCameraSimulator } from './camera.ts';
import type { CameraSimulator } from './camera.ts';

/**
 * Serves every device of `devices` (driver `ipc`) whose `accessConfig.ipc` has a loopback `ip`
 * and a `port` (default 80), with its `username`/`password`, as one camera each, with the RTSP
 * stream on (simulator.yaml `faults: { stream: false }` turns it off for a device). Logs one line
 * per camera. Rejects (after stopping what started) when a device cannot be served.
 */
export async function startCamerasFromConfig(devices: readonly CompiledDevice[], ctx: SimulatorContext): Promise<{ cameras: CameraSimulator[]; stop(): Promise<void> }> {
  const cameras: CameraSimulator[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(cameras.map((c) => c.stop()));
  };
  try {
    for (const d of devices) {
      const c = d.connection as Record<string, unknown>;
      const ip = typeof c['ip'] === 'string' ? c['ip'] : '127.0.0.1';
      const host = loopbackHost(ip);
      if (host === undefined) throw new Error(`${d.name}: accessConfig.ipc.ip "${ip}" is not loopback; the camera simulator serves 127.0.0.0/8 only`);
      const port = c['port'] === undefined ? 80 : Number(c['port']);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${d.name}: accessConfig.ipc.port "${String(c['port'])}" is not a port`);
      const faults = ctx.faults[d.name];
      let stream = true;
      if (faults !== null && typeof faults === 'object') {
        for (const [k, v] of Object.entries(faults)) {
          if (k === 'stream' && typeof v === 'boolean') stream = v;
          else ctx.log(`warning: ${d.name}: unknown camera fault "${k}" (stream: true/false)`);
        }
      }
      const sa = typeof c['streamAddress'] === 'string' ? /^rtsp:\/\/([^/:]+):(\d+)\//.exec(c['streamAddress']) : null;
      const cam = await startCameraSimulator({
        host,
        port,
        ...(typeof c['username'] === 'string' && c['username'] !== '' ? { username: c['username'] } : {}),
        ...(typeof c['password'] === 'string' && c['password'] !== '' ? { password: c['password'] } : {}),
        info: { model: `SIM-IPC-${d.name}`.slice(0, 64), serialNumber: `FG-${d.name}`.slice(0, 64) },
        rtsp: stream,
        ...(sa !== null && loopbackHost(sa[1]!) === host ? { rtspPort: Number(sa[2]) } : {}),
      });
      cameras.push(cam);
      const rtsp = Object.entries(cam.rtspUrls).map(([t, u]) => `${t}=${u}`).join(' ');
      ctx.log(`ipc ${d.name}: ${cam.deviceServiceUrl}${rtsp !== '' ? ` rtsp ${rtsp}` : ' (no stream)'}`);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  return { cameras, stop: stopAll };
}
