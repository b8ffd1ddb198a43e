/**
 * What one camera address reads as, from what the session knows at the time of a read (a plain
 * view, so that this is pure and tested without a camera). One result per point: a missing fact
 * is a bad result with a code and a message naming what is missing.
 */
import type { PointError, ReadResult } from '../sdk/index.ts';
import type { IpcAddress, ProfileSelector } from './address.ts';
import { needsOnvif, toPointValue, valueKind } from './address.ts';
import type { ForwardState } from './forward.ts';
import type { ProbeState } from './ffprobe.ts';
import type { DeviceInfo, ProfileInfo } from './onvif.ts';
import type { SnapshotInfo } from './snapshot.ts';
import type { Point } from '../sdk/index.ts';

/** What a read can see. */
export interface ReadView {
  readonly onvif: boolean;
  readonly info: DeviceInfo | undefined;
  readonly profiles: readonly ProfileInfo[];
  /** The stream a `stream[...]` address names, and its latest probe. */
  readonly stream: (sel: ProfileSelector | undefined) => { readonly url: string; readonly state: ProbeState } | { readonly error: PointError };
  readonly snapshot: { readonly last: SnapshotInfo | undefined; readonly count: number };
  /** PTZ position (undefined: no PTZ profile). */
  readonly ptz: { readonly ok: true; readonly pan: number; readonly tilt: number; readonly zoom: number; readonly moving: boolean } | { readonly ok: false; readonly error: PointError } | undefined;
  readonly ptzLast: { readonly move: string; readonly preset: string };
  readonly forward: { readonly state: ForwardState; readonly restarts: number; readonly enabled: boolean; readonly target: string; readonly pid: number } | undefined;
  /** Latest event states (undefined: events are off). */
  readonly events: { readonly motion?: boolean; readonly tamper?: boolean } | undefined;
  readonly now: number;
}

type Fact = { ok: true; value: string | number | boolean; quality?: 'good' | 'uncertain' } | { ok: false; error: PointError };

const bad = (code: PointError['code'], message: string, detail?: PointError['detail']): Fact => ({ ok: false, error: { code, message, ...(detail ? { detail } : {}) } });

/** Finds a profile by position, token or name. */
export function selectProfile(profiles: readonly ProfileInfo[], sel: ProfileSelector | number | string | undefined): ProfileInfo | undefined {
  if (sel === undefined) return profiles[0];
  if (typeof sel === 'number') return profiles[sel];
  if (typeof sel === 'string') return /^\d+$/.test(sel) ? profiles[Number(sel)] : (profiles.find((p) => p.token === sel) ?? profiles.find((p) => p.name === sel));
  if ('index' in sel) return profiles[sel.index];
  return profiles.find((p) => p.token === sel.key) ?? profiles.find((p) => p.name === sel.key);
}

function noProfile(profiles: readonly ProfileInfo[], sel: ProfileSelector): Fact {
  const have = profiles.map((p, i) => `${i}:${p.token}`).join(', ') || 'none';
  return bad('BadAddress', `no profile ${'index' in sel ? sel.index : JSON.stringify(sel.key)} on the camera (profiles: ${have})`);
}

/** The fact an address names. */
export function factOf(a: IpcAddress, v: ReadView): Fact {
  if (!v.onvif && needsOnvif(a)) {
    return bad('Unsupported', `${a.text} needs the ONVIF service; this camera is configured with streamAddress only (give ip/port for ONVIF)`);
  }
  switch (a.kind) {
    case 'online':
      return { ok: true, value: true };
    case 'info':
      return v.info === undefined ? bad('Offline', 'no device information yet') : { ok: true, value: v.info[a.field] };
    case 'profiles':
      return { ok: true, value: v.profiles.length };
    case 'profile': {
      const p = selectProfile(v.profiles, a.profile);
      if (p === undefined) return noProfile(v.profiles, a.profile);
      const value = p[a.field];
      if (value === undefined) return bad('Unsupported', `profile ${p.token} has no ${a.field === 'snapshotUri' ? 'snapshot URI' : a.field}`);
      return { ok: true, value };
    }
    case 'stream': {
      const s = v.stream(a.profile);
      if ('error' in s) return { ok: false, error: s.error };
      if (a.field === 'uri') return { ok: true, value: s.url };
      const st = s.state;
      if (a.field === 'ok') return st.kind === 'none' ? bad('Timeout', 'the stream was not probed yet') : { ok: true, value: st.kind === 'ok' };
      if (a.field === 'lastFrameTs') {
        const at = st.kind === 'ok' ? st.at : st.kind === 'error' ? st.lastOk?.at : undefined;
        return at === undefined ? (st.kind === 'error' ? { ok: false, error: errorOf(st.error) } : bad('Timeout', 'the stream was not probed yet')) : { ok: true, value: at };
      }
      if (st.kind === 'none') return bad('Timeout', 'the stream was not probed yet');
      if (st.kind === 'error') return { ok: false, error: errorOf(st.error) };
      return { ok: true, value: st.health[a.field] };
    }
    case 'snapshot': {
      if (a.field === 'take') return { ok: true, value: false };
      if (a.field === 'count') return { ok: true, value: v.snapshot.count };
      const last = v.snapshot.last;
      if (last === undefined) return bad('Exception', 'no snapshot taken yet', { reason: 'NoSnapshotYet' });
      return { ok: true, value: last[a.field] };
    }
    case 'ptz': {
      if (a.field === 'move') return { ok: true, value: v.ptzLast.move };
      if (a.field === 'preset') return { ok: true, value: v.ptzLast.preset };
      if (a.field === 'stop' || a.field === 'home') return { ok: true, value: false };
      if (v.ptz === undefined) return bad('Unsupported', 'the camera has no profile with a PTZ configuration');
      if (!v.ptz.ok) return { ok: false, error: v.ptz.error };
      return { ok: true, value: v.ptz[a.field] };
    }
    case 'forward': {
      const f = v.forward;
      if (f === undefined) return bad('Unsupported', 'forwarding is not configured (accessConfig.ipc.forward, or agentEnable with remoteAddress)');
      return { ok: true, value: f[a.field] };
    }
    case 'event': {
      if (v.events === undefined) return bad('Unsupported', 'events are off (set events: true in accessConfig.ipc)');
      const s = v.events[a.field];
      // Before the first notification (ONVIF sends the state as "Initialized" when a subscription
      // starts) the state is not known: false, marked uncertain.
      return s === undefined ? { ok: true, value: false, quality: 'uncertain' } : { ok: true, value: s };
    }
  }
}

function errorOf(e: { code: PointError['code']; message: string; detail?: PointError['detail'] }): PointError {
  return { code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) };
}

/** The read result of one point. */
export function resultOf(point: Point<IpcAddress>, v: ReadView): ReadResult {
  const f = factOf(point.address, v);
  if (!f.ok) return { id: point.id, quality: 'bad', error: { ...f.error, message: `${point.name} (${point.address.text}): ${f.error.message}` }, ts: v.now };
  return { id: point.id, quality: f.quality ?? 'good', value: toPointValue(f.value, point.type, valueKind(point.address)), ts: v.now };
}
