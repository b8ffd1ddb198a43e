/**
 * The second MQTT connection, to the cloud hub: the gateway's BrokerLink (bounded queue, reconnect
 * backoff, publish resolved on PUBACK) plus what the cloud side needs: the node status, retained,
 * with a Last Will saying offline; the subscriptions to desired documents and shadow requests.
 */
import type { Logger } from '../../drivers/sdk/types.ts';
import { connectBroker, type BrokerLink, type ConnectOptions, type LinkState } from '../../gateway/mqtt/connection.ts';
import type { OutboxEntry } from '../store-api.ts';
import { edgeSubscriptions, lifecycleMessage, makeMeta, serialize, statusTopic } from './protocol.ts';

/** How to reach the cloud hub: the options of `connectBroker` that make sense for it. */
export type CloudLinkOptions = Pick<
  ConnectOptions,
  | 'url'
  | 'clientId'
  | 'username'
  | 'password'
  | 'ca'
  | 'cert'
  | 'key'
  | 'rejectUnauthorized'
  | 'protocolVersion'
  | 'keepalive'
  | 'reconnectMinMs'
  | 'reconnectMaxMs'
  | 'connectTimeoutMs'
>;

/** Callbacks of the link. */
export interface CloudLinkHandlers {
  onState(state: LinkState, previous: LinkState): void;
  onMessage(topic: string, payload: Buffer): void;
}

/** The cloud connection of one node. */
export class CloudLink {
  private readonly link: BrokerLink;

  constructor(
    opts: CloudLinkOptions,
    private readonly node: string,
    maxInFlight: number,
    private readonly now: () => number,
    private readonly log: Logger,
    handlers: CloudLinkHandlers,
  ) {
    this.link = connectBroker(
      {
        ...opts,
        // A fresh session at every connect: what was in flight is resent by the outbox drain, and
        // desired documents missed while away are re-sent by the cloud when it sees the status.
        clean: true,
        maxInflight: maxInFlight,
        // Our window keeps at most maxInFlight messages outstanding; room for an old generation too.
        maxQueue: Math.max(1000, maxInFlight * 4),
        will: { topic: statusTopic(node), payload: this.status(false), qos: 1, retain: true },
      },
      log,
    );
    this.link.onState((state, prev) => {
      if (state === 'online') {
        // Retained, so a cloud that starts later still learns that the node is up.
        this.link.publish(statusTopic(node), this.status(true), { qos: 1, retain: true }).catch((e: unknown) => {
          this.log.debug({ err: e instanceof Error ? e.message : String(e) }, 'cloud status publish failed');
        });
      }
      handlers.onState(state, prev);
    });
    this.link.onMessage((topic, payload) => handlers.onMessage(topic, payload));
    this.link.subscribe(edgeSubscriptions(node).map((topic) => ({ topic, qos: 1 as const }))).catch((e: unknown) => {
      // `Closed`: stopped before the cloud was ever reached; nothing to report.
      if ((e as { code?: unknown }).code === 'Closed') return;
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'cloud subscribe failed');
    });
  }

  get state(): LinkState {
    return this.link.state;
  }

  /** Publishes one outbox row; resolves on its PUBACK. */
  send(entry: OutboxEntry): Promise<void> {
    return this.link.publish(entry.topic, entry.payload, { qos: entry.qos === 0 ? 0 : 1 });
  }

  /** Says offline (retained) if connected, then disconnects. Safe to call twice. */
  async close(): Promise<void> {
    if (this.link.state === 'online') {
      const said = this.link.publish(statusTopic(this.node), this.status(false), { qos: 1, retain: true });
      // Do not hang a shutdown on a cloud that stopped answering.
      await Promise.race([said.catch(() => {}), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    await this.link.close();
  }

  private status(online: boolean): string {
    return serialize(lifecycleMessage(makeMeta(this.node, ''), online, this.now()));
  }
}
