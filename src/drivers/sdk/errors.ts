/**
 * The one error type a driver throws or reports. Callers tell errors apart by `code`, never by
 * `instanceof` (a plugin may carry its own copy of this class).
 */

/**
 * - `Timeout`: the device did not answer in time (the link may still be up).
 * - `Offline`: the link is down or could not be opened; the gateway moves the link to backoff.
 * - `Protocol`: a malformed or unexpected frame (bad CRC, wrong length, wrong function).
 * - `Exception`: the device answered with a protocol-level error (Modbus exception, OPC UA Bad status…).
 * - `BadAddress`: the address does not exist on the device.
 * - `Unsupported`: the driver or device cannot do what was asked (write to an input, subscribe…).
 * - `BadValue`: a value cannot be encoded for the point (out of range, wrong type).
 * - `Config`: the configuration is invalid (found at load time).
 */
export type DriverErrorCode =
  | 'Timeout'
  | 'Offline'
  | 'Protocol'
  | 'Exception'
  | 'BadAddress'
  | 'Unsupported'
  | 'BadValue'
  | 'Config';

/** Extra facts about an error, e.g. `{ exceptionCode: 2 }` for a Modbus exception. */
export type DriverErrorDetail = Readonly<Record<string, string | number | boolean>>;

/** A typed, coded driver error. */
export class DriverError extends Error {
  override readonly name = 'DriverError';
  /** What kind of failure this is; see {@link DriverErrorCode}. */
  readonly code: DriverErrorCode;
  /** Protocol specifics (exception code, status name…), safe to log and publish. */
  readonly detail: DriverErrorDetail | undefined;

  constructor(code: DriverErrorCode, message: string, options?: { cause?: unknown; detail?: DriverErrorDetail }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options?.detail;
  }
}

/** True for anything that carries a DriverError code (works across copies of the SDK). */
export function isDriverError(e: unknown): e is DriverError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    (e as { name?: unknown }).name === 'DriverError'
  );
}

/** Wraps anything thrown into a DriverError, keeping an existing code. */
export function toDriverError(e: unknown, fallback: DriverErrorCode = 'Protocol'): DriverError {
  if (isDriverError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DriverError(fallback, message, { cause: e });
}
