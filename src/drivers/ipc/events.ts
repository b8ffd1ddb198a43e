/**
 * ONVIF event notifications (pull-point `PullMessagesResponse/NotificationMessage`, as the
 * onvif package hands them over after `linerase`) mapped to fieldgate events. Pure.
 *
 * ONVIF Core §9.6 (topic tns1:VideoSource/MotionAlarm, data `State` bool, source
 * `Source` = video source token), §9.7 (tns1:VideoSource/GlobalSceneChange/ImagingService
 * and …/AnalyticsService: tampering, data `State`), and the analytics cell motion detector
 * (tns1:RuleEngine/CellMotionDetector/Motion, data `IsMotion`).
 */

/** One mapped notification: the event id (key of the `events` map) and its payload. */
export interface MappedEvent {
  readonly id: 'motion' | 'tamper' | 'event';
  readonly payload: {
    readonly state?: boolean;
    readonly source?: string;
    readonly topic: string;
    /** ONVIF PropertyOperation: Initialized (state at subscribe time), Changed, Deleted. */
    readonly operation?: string;
    /** Every `Data/SimpleItem` as name → value. */
    readonly data: Record<string, string | number | boolean>;
  };
  /** The message's UtcTime (epoch ms) when it has one. */
  readonly ts?: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** `SimpleItem` elements (`{$: {Name, Value}}`, one or many) as name → value. */
function simpleItems(container: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const item of list(obj(container)?.simpleItem)) {
    const attrs = obj(obj(item)?.$);
    const name = attrs?.Name;
    const value = attrs?.Value;
    if (typeof name !== 'string') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = value;
    else if (value instanceof Date) out[name] = value.toISOString();
  }
  return out;
}

/** The topic text without its namespace prefix: `tns1:VideoSource/MotionAlarm` → `VideoSource/MotionAlarm`. */
export function topicPath(topic: string): string {
  return topic
    .trim()
    .split('/')
    .map((seg) => seg.replace(/^[A-Za-z0-9_-]+:/, ''))
    .join('/');
}

function asBool(v: string | number | boolean | undefined): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 1 || v === '1') return true;
  if (v === 'false' || v === 0 || v === '0') return false;
  return undefined;
}

/** Maps one linerased `NotificationMessage`; undefined when it has no topic. */
export function mapNotification(message: unknown): MappedEvent | undefined {
  const m = obj(message);
  const topicNode = m?.topic;
  const topic = typeof topicNode === 'string' ? topicNode : typeof obj(topicNode)?._ === 'string' ? (obj(topicNode)!._ as string) : undefined;
  if (topic === undefined) return undefined;
  const inner = obj(obj(m?.message)?.message) ?? obj(m?.message);
  const attrs = obj(inner?.$);
  const data = simpleItems(inner?.data);
  const source = simpleItems(inner?.source);
  const utc = attrs?.UtcTime;
  const ts = utc instanceof Date ? utc.getTime() : typeof utc === 'string' && Number.isFinite(Date.parse(utc)) ? Date.parse(utc) : undefined;
  const operation = typeof attrs?.PropertyOperation === 'string' ? attrs.PropertyOperation : undefined;
  const sourceText = Object.values(source).map(String)[0];
  const path = topicPath(topic);
  let id: MappedEvent['id'] = 'event';
  let state: boolean | undefined;
  if (path === 'VideoSource/MotionAlarm') {
    id = 'motion';
    state = asBool(data.State);
  } else if (path === 'RuleEngine/CellMotionDetector/Motion') {
    id = 'motion';
    state = asBool(data.IsMotion);
  } else if (path.startsWith('VideoSource/GlobalSceneChange')) {
    id = 'tamper';
    state = asBool(data.State);
  }
  return {
    id,
    payload: {
      ...(state !== undefined ? { state } : {}),
      ...(sourceText !== undefined ? { source: sourceText } : {}),
      topic: path,
      ...(operation !== undefined ? { operation } : {}),
      data,
    },
    ...(ts !== undefined ? { ts } : {}),
  };
}

/**
 * Groups mapped notifications into `sink.event` calls: one call per notification (events are
 * not merged; two motion changes in one pull are two events), in arrival order.
 */
export function toEventCalls(messages: readonly unknown[]): { events: Record<string, unknown>; ts?: number }[] {
  const out: { events: Record<string, unknown>; ts?: number }[] = [];
  for (const msg of messages) {
    const e = mapNotification(msg);
    if (e === undefined) continue;
    out.push({ events: { [e.id]: e.payload }, ...(e.ts !== undefined ? { ts: e.ts } : {}) });
  }
  return out;
}
