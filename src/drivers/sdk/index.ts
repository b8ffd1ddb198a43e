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
