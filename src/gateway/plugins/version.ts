/**
 * The SDK version check done when a plugin loads: the plugin's `sdkVersion` range must admit this
 * gateway's SDK_VERSION. Refusals say which SDK versions the plugin fits and which gateway line
 * to use, so the person can upgrade one side.
 */
import semver from 'semver';
import { SDK_VERSION } from '../../drivers/sdk/index.ts';

/** Outcome of {@link checkSdkVersion}. */
export type SdkCheck = { readonly ok: true } | { readonly ok: false; readonly code: 'SdkVersionMismatch' | 'SdkVersionInvalid'; readonly message: string };

/**
 * Checks a plugin's declared range against `sdk` (default: ours). Prereleases of ours count as
 * their release (a `^1.0.0` plugin runs on SDK 1.1.0-rc.1).
 */
export function checkSdkVersion(id: string, range: string, sdk: string = SDK_VERSION): SdkCheck {
  const valid = semver.validRange(range);
  if (valid === null) {
    return { ok: false, code: 'SdkVersionInvalid', message: `plugin ${JSON.stringify(id)} declares sdkVersion ${JSON.stringify(range)}, which is not a semver range (write e.g. "^${semver.major(sdk)}.0.0")` };
  }
  if (semver.satisfies(sdk, valid, { includePrerelease: true })) return { ok: true };
  const lowest = semver.minVersion(valid);
  return {
    ok: false,
    code: 'SdkVersionMismatch',
    message:
      `plugin ${JSON.stringify(id)} needs SDK ${range}${lowest ? ` (lowest: ${lowest.version})` : ''}, but this gateway provides SDK ${sdk}; ` +
      `it fits plugins with sdkVersion ^${semver.major(sdk)}.0.0 (or any range that admits ${sdk}): rebuild the plugin against fieldgate/sdk ${sdk}, or run a gateway whose SDK is in ${range}`,
  };
}
