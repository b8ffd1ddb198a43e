/**
 * Simulated ONVIF IP cameras (the `ipc` driver's counterpart): {@link startCameraSimulator}
 * serves one camera (device, media, PTZ and event services over SOAP 1.2, snapshots, an optional
 * RTSP stream and WS-Discovery responder); {@link startCamerasFromConfig} serves the cameras of a
 * configuration for `fieldgate simulate`.
 */
export { DEFAULT_PROFILES, loopbackHost, startCameraSimulator } from './camera.ts';
export type { CameraSimOptions, CameraSimulator } from './camera.ts';
export { startCamerasFromConfig } from './config.ts';
export type { DeviceInfo, MediaProfile } from './context.ts';
export type { PtzSnapshot } from './ptz-state.ts';
