/**
 * Turns what @bacnet-js/client throws (plain Errors with messages such as `ERR_TIMEOUT`,
 * `BacnetError - Class:2 - Code:32`, `BacnetAbort - Reason:9`) into coded DriverErrors.
 */
import { DriverError, isDriverError } from '../sdk/index.ts';
import type { PointError } from '../sdk/index.ts';
import { ABORT_REASON, ERROR_CLASS, REJECT_REASON } from './constants.ts';
import { errorFromClassCode } from './values.ts';

/** A library error as a DriverError; keeps DriverErrors as they are. */
export function toBacnetError(e: unknown): DriverError {
  if (isDriverError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (message === 'ERR_TIMEOUT') return new DriverError('Timeout', 'the device did not answer in time', { cause: e });
  if (message === 'ERR_CLOSED') return new DriverError('Offline', 'the BACnet socket is closed', { cause: e });
  const err = /BacnetError - Class:(\d+) - Code:(\d+)/.exec(message);
  if (err) {
    const pe = errorFromClassCode(Number(err[1]), Number(err[2]));
    return new DriverError(pe.code, pe.message, { cause: e, ...(pe.detail ? { detail: pe.detail } : {}) });
  }
  const abort = /BacnetAbort - Reason:(\d+)/.exec(message);
  if (abort) {
    // @bacnet-js/client reports Reject PDUs (§20.1.8) and Abort PDUs (§20.1.9) alike.
    const reason = Number(abort[1]);
    return new DriverError('Exception', `the device rejected or aborted the request (reason ${reason})`, { cause: e, detail: { abortOrRejectReason: reason } });
  }
  if (message === 'INVALID_DECODING') return new DriverError('Protocol', 'the answer could not be decoded', { cause: e });
  if (/EADDRINUSE|EACCES|EADDRNOTAVAIL|ENETUNREACH|EHOSTUNREACH|ECONNREFUSED/.test(message)) return new DriverError('Offline', message, { cause: e });
  return new DriverError('Protocol', message, { cause: e });
}

/** The request is one the device does not implement (ReadPropertyMultiple, SubscribeCOV…). */
export function isServiceUnsupported(e: DriverError): boolean {
  const d = e.detail;
  if (d === undefined) return false;
  if (d.errorClass === ERROR_CLASS.SERVICES) return true;
  return d.abortOrRejectReason === REJECT_REASON.UNRECOGNIZED_SERVICE;
}

/** The answer would not fit: the request should be split (abort: buffer overflow, segmentation not supported, APDU too long). */
export function isTooLong(e: DriverError): boolean {
  const r = e.detail?.abortOrRejectReason;
  return r === ABORT_REASON.BUFFER_OVERFLOW || r === ABORT_REASON.SEGMENTATION_NOT_SUPPORTED || r === ABORT_REASON.APDU_TOO_LONG;
}

/** A DriverError as the PointError of a result. */
export function pointError(e: DriverError): PointError {
  return e.detail === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, detail: e.detail };
}
