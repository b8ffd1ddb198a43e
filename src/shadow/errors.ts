/**
 * The one error type of the shadow layer. Callers tell errors apart by `code`, never by `instanceof`.
 */

/**
 * - `VersionConflict`: a desired patch named a version that is not the current `desireVersion`
 *   (optimistic concurrency, like AWS IoT shadow `version`); `detail.current` holds the version to retry with.
 * - `BadPatch`: a desired patch that is not a JSON object.
 * - `TooDeep`: a merge would recurse past Baetyl's limit of 5 levels (`maxJSONLevel`).
 * - `Storage`: the database could not be read or written (disk full, file unwritable, corrupt).
 * - `SchemaTooNew`: the database was written by a newer fieldgate (`PRAGMA user_version` above ours).
 * - `Closed`: the store was used after `close()`.
 */
export type ShadowErrorCode = 'VersionConflict' | 'BadPatch' | 'TooDeep' | 'Storage' | 'SchemaTooNew' | 'Closed';

/** Extra facts about an error, safe to log and to send to the cloud. */
export type ShadowErrorDetail = Readonly<Record<string, string | number | boolean>>;

/** A typed, coded shadow error. */
export class ShadowError extends Error {
  override readonly name = 'ShadowError';
  /** What kind of failure this is; see {@link ShadowErrorCode}. */
  readonly code: ShadowErrorCode;
  readonly detail: ShadowErrorDetail | undefined;

  constructor(code: ShadowErrorCode, message: string, options?: { cause?: unknown; detail?: ShadowErrorDetail }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options?.detail;
  }
}

/** True for anything that carries a ShadowError code. */
export function isShadowError(e: unknown): e is ShadowError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    (e as { name?: unknown }).name === 'ShadowError'
  );
}
