/**
 * Every uplink message the cloud simulator's broker delivers, as it arrives (duplicates
 * included), with its stream position. The simulator itself drops duplicates before keeping
 * history; a fault scenario needs them to count QoS 1 redelivery.
 *
 * The tap wraps `cloud.shadows.receive`, which the simulator's in-process subscriber calls before
 * the broker sends the PUBACK: a message the gateway saw acknowledged is always in the tap.
 */
import type { CloudSimulator } from '../../../simulators/cloud/index.ts';

/** One uplink message as received. */
export interface Arrival {
  readonly device: string;
  readonly channel: 'report' | 'lifecycle' | 'desired/ack';
  readonly epoch: number;
  readonly seq: number;
  /** `content.blink.properties` of a report (else `{}`). */
  readonly properties: Record<string, unknown>;
  /** `content.metadata` of a report: per attribute `{ts, quality}` (else `{}`). */
  readonly metadata: Record<string, { ts: number; quality: string }>;
  readonly payload: string;
  readonly at: number;
  /** Which run of the cloud broker and of the gateway process received it (QoS 1 session). */
  readonly session: string;
}

/** Taps the simulator; `session()` names the current cloud-broker run and gateway run. */
export function tapCloud(cloud: CloudSimulator, session: () => string): Arrival[] {
  const arrivals: Arrival[] = [];
  const shadows = cloud.shadows;
  const receive = shadows.receive.bind(shadows);
  shadows.receive = (topic: string, payload: Buffer): void => {
    const m = /^fieldgate\/[^/]+\/shadow\/([^/]+)\/(report|lifecycle|desired\/ack)$/.exec(topic);
    if (m !== null) {
      const text = payload.toString('utf8');
      const msg = JSON.parse(text) as { content: { epoch: number; seq: number; blink?: { properties?: Record<string, unknown> }; metadata?: Arrival['metadata'] } };
      arrivals.push({
        device: m[1]!,
        channel: m[2] as Arrival['channel'],
        epoch: msg.content.epoch,
        seq: msg.content.seq,
        properties: msg.content.blink?.properties ?? {},
        metadata: msg.content.metadata ?? {},
        payload: text,
        at: Date.now(),
        session: session(),
      });
    }
    receive(topic, payload);
  };
  return arrivals;
}
