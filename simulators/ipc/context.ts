/**
 * What the SOAP services of one simulated camera share: its identity, profiles, PTZ head,
 * event hub and URLs. Services are tables of handlers from (namespace, operation) to the XML
 * that goes inside `env:Body`; a handler throws {@link SoapFault} to answer with a fault.
 */
import type { EventHub } from './event-hub.ts';
import type { PtzHead } from './ptz-state.ts';
import type { XmlElement } from './xml.ts';

/** `GetDeviceInformation` fields. */
export interface DeviceInfo {
  readonly manufacturer: string;
  readonly model: string;
  readonly firmwareVersion: string;
  readonly serialNumber: string;
  readonly hardwareId: string;
}

/** One media profile (ONVIF Media §5.2). */
export interface MediaProfile {
  readonly token: string;
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** kbit/s. */
  readonly bitrate: number;
  readonly encoding: 'H264' | 'H265' | 'JPEG';
}

export interface CameraContext {
  readonly info: DeviceInfo;
  readonly profiles: readonly MediaProfile[];
  /** Undefined when the camera has no PTZ. */
  readonly ptz: PtzHead | undefined;
  readonly events: EventHub;
  /** `urn:uuid:…` of the device (WS-Discovery endpoint reference). */
  readonly endpoint: string;
  readonly scopes: readonly string[];
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  baseUrl(): string;
  streamUri(profileToken: string): string;
  now(): number;
}

/** One SOAP operation as a handler sees it. */
export interface OpRequest {
  readonly op: XmlElement;
  readonly header: XmlElement | undefined;
  /** Request path, e.g. `/onvif/subscription/3`. */
  readonly path: string;
  /** Aborted when the client goes away or the camera pauses or stops (long polls end early). */
  readonly signal: AbortSignal;
}

export type Handler = (req: OpRequest, ctx: CameraContext) => string | Promise<string>;

/** Handlers keyed by `<namespace> <LocalName>`. */
export type ServiceTable = ReadonlyMap<string, Handler>;

export const opKey = (ns: string, name: string): string => `${ns} ${name}`;

/** Service paths (GetServices / GetCapabilities XAddrs). */
export const PATHS = {
  device: '/onvif/device_service',
  media: '/onvif/media_service',
  ptz: '/onvif/ptz_service',
  events: '/onvif/events_service',
  subscription: '/onvif/subscription/',
  snapshot: '/snapshot/',
} as const;
