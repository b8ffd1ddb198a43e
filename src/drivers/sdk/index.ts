/**
 * fieldgate driver SDK: everything a driver (built-in or plugin) may import from fieldgate.
 * Import it as `fieldgate/sdk`.
 */
export { SDK_VERSION } from './types.ts';
export type {
  BaseConnection,
  Capabilities,
  Clock,
  ConnectOptions,
  DeviceRef,
  Driver,
  DriverContext,
  DriverDescriptor,
  DriverMetrics,
  LinkSpec,
  Logger,
  Point,
  PointError,
  PointType,
  PointValue,
  PointWrite,
  Quality,
  ReadResult,
  Session,
  Subscription,
  SubscriptionSink,
  WriteResult,
} from './types.ts';
export { DriverError, isDriverError, toDriverError } from './errors.ts';
export type { DriverErrorCode, DriverErrorDetail } from './errors.ts';
export { baseConnectionShape, duration, intOrHex } from './schema.ts';
export { z } from 'zod';

// Helpers: the decoder result type, a frame splitter, a semaphore, and transports.
/** Decoder results (`ok` / `incomplete` / `error`) and a splitter of byte streams into frames; see codec.ts. */
export { FrameSplitter, fail, incomplete, ok } from './codec.ts';
export type { DecodeResult, Decoder, FrameSplitterOptions, SplitItem } from './codec.ts';
/** A counting semaphore limiting calls in flight; see gate.ts. */
export { Gate } from './gate.ts';
/** Byte streams with coded errors and one loss report: TCP, UDP, serial (serialport loads lazily). */
export type { ByteStream } from './transports/stream.ts';
export { connectError, openTcp } from './transports/tcp.ts';
export type { TcpOptions, TcpStream } from './transports/tcp.ts';
export { openUdp } from './transports/udp.ts';
export type { UdpOptions, UdpPeer, UdpSocket } from './transports/udp.ts';
export { openSerial } from './transports/serial.ts';
export type { SerialOptions, SerialStream } from './transports/serial.ts';
