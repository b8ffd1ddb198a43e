/**
 * The gateway's link to its MQTT broker (baetyl-broker, mosquitto, the embedded aedes), wrapping
 * mqtt.js v5 with: one explicit state, a bounded publish queue of our own, exponential reconnect
 * backoff, resubscription after every reconnect, and counters.
 *
 * Why our own queue: mqtt.js keeps everything published while offline in unbounded memory. Here,
 * messages wait in a queue of at most `maxQueue` entries until the link is online and the
 * in-flight window has room; only then are they handed to mqtt.js. QoS 1 messages that are in
 * flight when the connection drops stay in mqtt.js's outgoing store and are resent (same packet
 * id) after reconnect; their promise resolves on that PUBACK.
 */
import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from '../../drivers/sdk/types.ts';

/** `connecting` until the first CONNACK or failure; `offline` while retrying; `closed` after close(). */
export type LinkState = 'connecting' | 'online' | 'offline' | 'closed';

/** A Last Will, published (by the broker) when the link dies without DISCONNECT. */
export interface WillSpec {
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

/** How to reach the broker. File contents (ca/cert/key) are already read by the caller. */
export interface ConnectOptions {
  /** `mqtt://`, `tcp://`, or TLS: `mqtts://`, `ssl://`, `tls://` (Baetyl writes `ssl://127.0.0.1:50010`). */
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM of the CA(s) to trust, the client certificate and its key (mutual TLS). */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Verify the broker's certificate (default true). */
  readonly rejectUnauthorized?: boolean;
  /** 4 = MQTT 3.1.1 (default; baetyl-broker and aedes 1.2 speak only this), 5 = MQTT 5. */
  readonly protocolVersion?: 4 | 5;
  /** Keepalive in seconds (default 30, like baetyl-go). */
  readonly keepalive?: number;
  readonly will?: WillSpec;
  /** Clean session (default true: after an outage, stale commands are not replayed). */
  readonly clean?: boolean;
  /** Messages waiting to be sent, at most (default 10,000); see {@link BrokerLink.publish}. */
  readonly maxQueue?: number;
  /** QoS 1 messages awaiting PUBACK, at most (default 100; lower if an MQTT 5 broker says so). */
  readonly maxInflight?: number;
  /** First reconnect delay and its cap in ms (default 1000 and 30,000); doubles, ±20 % jitter. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Time allowed for CONNACK in ms (default 10,000). */
  readonly connectTimeoutMs?: number;
}

/** Options of one publish. QoS 2 is not offered: baetyl-broker has QoS 0 and 1 only. */
export interface PublishOptions {
  readonly qos: 0 | 1;
  readonly retain?: boolean;
}

/** Counters since the link was made. */
export interface LinkCounters {
  /** Messages the broker took (QoS 1: PUBACK) or that were written (QoS 0). */
  published: number;
  /** Messages dropped because the queue was full. */
  dropped: number;
  /** Times the link came back online after being offline. */
  reconnects: number;
  /** Messages waiting in our queue now. */
  queued: number;
  /** QoS 1 messages handed to mqtt.js and not yet acknowledged. */
  inflight: number;
  /** SUBACKs received (each subscribe() call online, and each resubscription after a reconnect). */
  subacks: number;
}

/** Codes of {@link MqttLinkError}. */
export type MqttLinkErrorCode = 'Dropped' | 'Closed' | 'Publish' | 'Subscribe';

/** Why a publish or subscribe did not succeed. Tell apart by `code`. */
export class MqttLinkError extends Error {
  override readonly name = 'MqttLinkError';
  constructor(
    readonly code: MqttLinkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The link the runtime and the Publisher use. */
export interface BrokerLink {
  readonly state: LinkState;
  readonly counters: Readonly<LinkCounters>;
  /**
   * Sends one message. Resolves when the broker acknowledged it (QoS 1) or it was written to the
   * socket (QoS 0). While offline it waits in the queue; when the queue is full, the oldest QoS 0
   * message is dropped, or the oldest message if none is QoS 0 (durable delivery is the cloud
   * outbox's job, not this queue's). A dropped message's promise rejects with code `Dropped`; after
   * close() with `Closed`. The returned promise is pre-marked handled, so a caller that does not
   * await it does not crash the process.
   */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void>;
  /**
   * Subscribes, and again after every reconnect that has no session. Resolves on the SUBACK: now if
   * online, else at the next connect (so do not block startup on it). Rejects with `Subscribe` if
   * the broker refused a filter, `Closed` if the link closed first. Pre-marked handled like publish.
   */
  subscribe(topics: readonly { readonly topic: string; readonly qos: 0 | 1 }[]): Promise<void>;
  /** Adds a message handler; returns a function that removes it. */
  onMessage(handler: (topic: string, payload: Buffer) => void): () => void;
  /** Adds a state listener; returns a function that removes it. */
  onState(listener: (state: LinkState, previous: LinkState) => void): () => void;
  /** Ends the link (DISCONNECT, so no Will), rejects queued messages. Safe to call twice. */
  close(): Promise<void>;
}

interface Pending {
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  resolve(): void;
  reject(e: Error): void;
}

/** Connects (in the background) and returns the link at once, in state `connecting`. */
export function connectBroker(opts: ConnectOptions, log: Logger): BrokerLink {
  return new Link(opts, log);
}

/** `mqtt.js` takes `mqtts` only when cert+key are given ("Unknown protocol" for ssl/tls): normalize. */
export function normalizeUrl(url: string): string {
  return url.replace(/^(ssl|tls):\/\//i, 'mqtts://');
}

/** The URL without any `user:password@` part, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

/** Why `topic` is not a valid MQTT topic name for PUBLISH (MQTT 3.1.1 §4.7), or undefined. */
export function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'empty topic';
  if (/[+#]/.test(topic)) return 'wildcards are not allowed in a topic name';
  if (topic.includes('\u0000')) return 'NUL in topic';
  if (Buffer.byteLength(topic, 'utf8') > 65535) return 'topic longer than 65535 bytes';
  return undefined;
}

class Link implements BrokerLink {
  state: LinkState = 'connecting';
  readonly counters: LinkCounters = { published: 0, dropped: 0, reconnects: 0, queued: 0, inflight: 0, subacks: 0 };
  private readonly client: MqttClient;
  private readonly queue: Pending[] = [];
  private readonly subs = new Map<string, 0 | 1>();
  /** Topics topicProblem found valid. */
  private readonly goodTopics = new Set<string>();
  /** subscribe() calls made while not online, settled by the next resubscription. */
  private subWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private readonly messageHandlers = new Set<(topic: string, payload: Buffer) => void>();
  private readonly stateListeners = new Set<(s: LinkState, p: LinkState) => void>();
  private readonly maxQueue: number;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private window: number;
  private delay: number;
  private wasOnline = false;
  private lastError: string | undefined;
  private droppedThisOutage = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly opts: ConnectOptions,
    private readonly log: Logger,
  ) {
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.window = opts.maxInflight ?? 100;
    this.minDelay = opts.reconnectMinMs ?? 1000;
    this.maxDelay = opts.reconnectMaxMs ?? 30_000;
    this.delay = this.minDelay;
    const options: IClientOptions = {
      clientId: opts.clientId,
      protocolVersion: opts.protocolVersion ?? 4,
      keepalive: opts.keepalive ?? 30,
      clean: opts.clean ?? true,
      // We resubscribe ourselves on every CONNACK without a session (see onConnect).
      resubscribe: false,
      reconnectPeriod: this.minDelay,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
    };
    if (opts.username !== undefined) options.username = opts.username;
    if (opts.password !== undefined) options.password = opts.password;
    if (opts.ca !== undefined) options.ca = opts.ca;
    if (opts.cert !== undefined) options.cert = opts.cert;
    if (opts.key !== undefined) options.key = opts.key;
    if (opts.rejectUnauthorized !== undefined) options.rejectUnauthorized = opts.rejectUnauthorized;
    if (opts.will) options.will = { ...opts.will };
    this.client = mqtt.connect(normalizeUrl(opts.url), options);
    this.client.on('connect', (connack) => this.onConnect(connack.sessionPresent, connack.properties?.receiveMaximum));
    this.client.on('close', () => this.onClose());
    // mqtt.js reads `reconnectPeriod` each time it arms its retry timer (after each failed
    // attempt's 'close'); raising it on every attempt gives exponential backoff.
    this.client.on('reconnect', () => {
      this.delay = Math.min(this.delay * 2, this.maxDelay);
      this.client.options.reconnectPeriod = Math.round(this.delay * (0.8 + 0.4 * Math.random()));
    });
    this.client.on('error', (e) => {
      this.lastError = e.message;
      this.log.debug({ err: e.message }, 'mqtt link error');
    });
    this.client.on('message', (topic, payload) => {
      for (const h of this.messageHandlers) {
        try {
          h(topic, payload);
        } catch (e) {
          this.log.error({ err: e instanceof Error ? e.message : String(e), topic }, 'mqtt message handler threw');
        }
      }
    });
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      if (this.state === 'closed') {
        reject(new MqttLinkError('Closed', 'link is closed'));
        return;
      }
      const bad = this.goodTopics.has(topic) ? undefined : topicProblem(topic);
      if (bad !== undefined) {
        // mqtt.js sends such a topic as is; the broker then drops the connection, and a QoS 1
        // message would come back after every reconnect.
        reject(new MqttLinkError('Publish', `cannot publish to ${JSON.stringify(topic)}: ${bad}`));
        return;
      }
      this.rememberGood(topic);
      this.queue.push({ topic, payload, qos: opts.qos, retain: opts.retain ?? false, resolve, reject });
      if (this.queue.length > this.maxQueue) this.dropOne();
      this.counters.queued = this.queue.length;
      this.pump();
    });
    p.catch(() => {});
    return p;
  }

  /** Devices publish on the same few topics over and over: check each once (bounded memory). */
  private rememberGood(topic: string): void {
    if (this.goodTopics.has(topic)) return;
    if (this.goodTopics.size >= 100_000) this.goodTopics.clear();
    this.goodTopics.add(topic);
  }

  subscribe(topics: readonly { readonly topic: string; readonly qos: 0 | 1 }[]): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      if (this.state === 'closed') return reject(new MqttLinkError('Closed', 'link is closed'));
      for (const t of topics) this.subs.set(t.topic, t.qos);
      if (topics.length === 0) return resolve();
      if (this.state !== 'online') return void this.subWaiters.push({ resolve, reject });
      this.subscribeNow(topics.map((t) => [t.topic, t.qos] as const)).then(resolve, reject);
    });
    p.catch(() => {});
    return p;
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  onState(listener: (state: LinkState, previous: LinkState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.setState('closed');
      for (const p of this.queue.splice(0)) p.reject(new MqttLinkError('Closed', 'link closed before the message was sent'));
      for (const w of this.subWaiters.splice(0)) w.reject(new MqttLinkError('Closed', 'link closed before subscribing'));
      this.counters.queued = 0;
      // A clean DISCONNECT (no Will) when the broker is there; never wait more than 2 s for it.
      const ended = this.client.endAsync(false).catch(() => {});
      const timer = setTimeout(() => this.client.end(true), 2000);
      await ended;
      clearTimeout(timer);
    })();
    return this.closing;
  }

  private onConnect(sessionPresent: boolean, receiveMaximum: number | undefined): void {
    if (this.state === 'closed') return;
    this.delay = this.minDelay;
    this.client.options.reconnectPeriod = this.minDelay;
    this.window = Math.max(1, Math.min(this.opts.maxInflight ?? 100, receiveMaximum ?? Infinity));
    this.lastError = undefined;
    if (this.wasOnline) this.counters.reconnects++;
    this.wasOnline = true;
    if (this.droppedThisOutage > 0) {
      this.log.warn({ dropped: this.droppedThisOutage }, 'mqtt queue overflowed while offline; oldest messages dropped');
      this.droppedThisOutage = 0;
    }
    this.setState('online');
    const waiters = this.subWaiters.splice(0);
    if ((!sessionPresent || waiters.length > 0) && this.subs.size > 0) {
      this.subscribeNow([...this.subs]).then(
        () => waiters.forEach((w) => w.resolve()),
        (e: Error) => {
          this.log.error({ err: e.message }, 'mqtt subscribe failed');
          waiters.forEach((w) => w.reject(e));
        },
      );
    } else {
      waiters.forEach((w) => w.resolve());
    }
    this.pump();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    // Lost the connection, or the first attempt failed; mqtt.js retries after `reconnectPeriod`.
    this.setState('offline');
  }

  private async subscribeNow(list: readonly (readonly [string, 0 | 1])[]): Promise<void> {
    const map: Record<string, { qos: 0 | 1 }> = {};
    for (const [topic, qos] of list) map[topic] = { qos };
    const granted = await this.client.subscribeAsync(map);
    this.counters.subacks++;
    // SUBACK 0x80 (v3.1.1) or a reason code >= 0x80 (v5) refuses the filter.
    const refused = granted.filter((g) => g.qos >= 0x80).map((g) => g.topic);
    if (refused.length > 0) throw new MqttLinkError('Subscribe', `broker refused subscription to ${refused.join(', ')}`);
  }

  /** Hands queued messages to mqtt.js while online and the QoS 1 window has room (keeps order). */
  private pump(): void {
    while (this.state === 'online' && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.qos === 1 && this.counters.inflight >= this.window) break;
      this.queue.shift();
      this.send(head);
    }
    this.counters.queued = this.queue.length;
  }

  private send(p: Pending): void {
    if (p.qos === 1) this.counters.inflight++;
    let settled = false;
    const done = (err?: Error | null): void => {
      if (settled) return;
      settled = true;
      if (p.qos === 1) this.counters.inflight--;
      if (err) {
        p.reject(new MqttLinkError('Publish', `publish to ${p.topic} failed: ${err.message}`, { cause: err }));
      } else {
        this.counters.published++;
        p.resolve();
      }
      this.pump();
    };
    try {
      this.client.publish(p.topic, p.payload, { qos: p.qos, retain: p.retain }, (err) => done(err));
    } catch (e) {
      // e.g. a topic mqtt.js refuses; the queue must go on.
      done(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private dropOne(): void {
    let i = this.queue.findIndex((p) => p.qos === 0);
    if (i < 0) i = 0;
    const [victim] = this.queue.splice(i, 1);
    if (!victim) return;
    this.counters.dropped++;
    if (this.droppedThisOutage++ === 0) {
      this.log.warn({ maxQueue: this.maxQueue }, 'mqtt queue full; dropping oldest messages (QoS 0 first)');
    }
    victim.reject(new MqttLinkError('Dropped', `message to ${victim.topic} dropped: queue full (${this.maxQueue})`));
  }

  private setState(next: LinkState): void {
    const prev = this.state;
    if (prev === next) return;
    this.state = next;
    const fields: Record<string, unknown> = { url: redactUrl(this.opts.url), clientId: this.opts.clientId, state: next };
    if (next === 'offline' && this.lastError !== undefined) fields['err'] = this.lastError;
    if (next === 'offline') fields['queued'] = this.queue.length;
    if (next === 'online' || next === 'closed') this.log.info(fields, `mqtt link ${next}`);
    else this.log.warn(fields, `mqtt link ${next}`);
    for (const l of this.stateListeners) {
      try {
        l(next, prev);
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'mqtt state listener threw');
      }
    }
  }
}
