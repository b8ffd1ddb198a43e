/**
 * Counting what keeps a Node process alive (sockets, servers, timers, workers), to tell whether
 * a driver's `close()` left anything behind. Uses process.getActiveResourcesInfo() (Node ≥ 17),
 * which lists one type name per live handle or request.
 */

/** Live resources by type, e.g. `{ TCPSocketWrap: 2, Timeout: 1 }`. */
export type ResourceCount = Record<string, number>;

/** Types that matter for leaks; others (FSReqCallback, TTYWrap, …) come and go on their own. */
const TRACKED = /Socket|Server|Timeout|Immediate|UDP|Pipe|Worker|MessagePort|Interval|Process/i;

export function countResources(): ResourceCount {
  const out: ResourceCount = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (!TRACKED.test(name)) continue;
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

/** What `after` holds beyond `before`, e.g. `{ TCPSocketWrap: 1 }`; empty when nothing leaked. */
export function extraResources(before: ResourceCount, after: ResourceCount): ResourceCount {
  const out: ResourceCount = {};
  for (const [k, n] of Object.entries(after)) {
    const more = n - (before[k] ?? 0);
    if (more > 0) out[k] = more;
  }
  return out;
}
