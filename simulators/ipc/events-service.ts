/**
 * ONVIF event service (tev, ONVIF Event spec §5.2): event properties, pull-point subscriptions
 * and the subscription manager (PullMessages, Renew, Unsubscribe), which lives at
 * `/onvif/subscription/<id>` (the address `CreatePullPointSubscription` returns).
 */
import { opKey, PATHS } from './context.ts';
import type { CameraContext, Handler, OpRequest, ServiceTable } from './context.ts';
import type { CameraEvent, Subscription } from './event-hub.ts';
import { parseIsoDuration, parseTerminationTime } from './iso-duration.ts';
import { VIDEO_SOURCE } from './media-service.ts';
import { FAULTS, NS, SoapFault } from './soap.ts';
import { escapeXml as x, textAt } from './xml.ts';

const CONCRETE_SET = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';
/** Longest subscription lifetime granted, and longest long-poll (ONVIF requires ≥ 1 min). */
const MAX_TERMINATION_MS = 3_600_000;
const DEFAULT_TERMINATION_MS = 60_000;
const MAX_PULL_MS = 60_000;

const iso = (t: number): string => new Date(t).toISOString();

const description = (): string =>
  '<tt:MessageDescription IsProperty="true"><tt:Source><tt:SimpleItemDescription Name="Source" Type="tt:ReferenceToken"/></tt:Source>' +
  '<tt:Data><tt:SimpleItemDescription Name="State" Type="xsd:boolean"/></tt:Data></tt:MessageDescription>';

const getEventProperties: Handler = () =>
  '<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
  '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><wstop:TopicSet><tns1:VideoSource>' +
  `<MotionAlarm wstop:topic="true">${description()}</MotionAlarm>` +
  `<GlobalSceneChange><ImagingService wstop:topic="true">${description()}</ImagingService></GlobalSceneChange>` +
  '</tns1:VideoSource></wstop:TopicSet>' +
  `<wsnt:TopicExpressionDialect>${CONCRETE_SET}</wsnt:TopicExpressionDialect>` +
  '<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>' +
  '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
  '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>';

function termination(value: string | undefined, ctx: CameraContext): number {
  const now = ctx.now();
  if (value === undefined || value === '') return now + DEFAULT_TERMINATION_MS;
  const t = parseTerminationTime(value, now);
  if (t === undefined || t <= now) throw new SoapFault(FAULTS.invalidArg('ter:InvalidTerminationTime', `bad termination time "${value}"`));
  return Math.min(t, now + MAX_TERMINATION_MS);
}

const subscriptionUrl = (ctx: CameraContext, s: Subscription): string => `${ctx.baseUrl()}${PATHS.subscription}${s.id}`;

const createPullPointSubscription: Handler = (req, ctx) => {
  const until = termination(textAt(req.op, 'InitialTerminationTime'), ctx);
  const sub = ctx.events.create(until);
  if (sub === undefined) throw new SoapFault({ code: 'env:Receiver', subcodes: ['ter:Action', 'ter:TooManySubscriptions'], reason: 'too many subscriptions' });
  return (
    `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${x(subscriptionUrl(ctx, sub))}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${iso(ctx.now())}</wsnt:CurrentTime><wsnt:TerminationTime>${iso(sub.terminationTime)}</wsnt:TerminationTime></tev:CreatePullPointSubscriptionResponse>`
  );
};

/** The subscription a manager request is for: from the path, else from `wsa:To`. */
function subscriptionOf(req: OpRequest, ctx: CameraContext): Subscription {
  const fromPath = req.path.startsWith(PATHS.subscription) ? req.path.slice(PATHS.subscription.length) : undefined;
  const to = req.header?.children.find((c) => c.name === 'To')?.text.trim();
  const fromTo = to?.includes(PATHS.subscription) ? to.slice(to.indexOf(PATHS.subscription) + PATHS.subscription.length) : undefined;
  const id = fromPath ?? fromTo;
  const sub = id === undefined ? undefined : ctx.events.get(id);
  if (sub === undefined) throw new SoapFault(FAULTS.invalidArg('ter:ResourceUnknown', `unknown or expired subscription "${id ?? ''}"`));
  return sub;
}

export function notificationXml(e: CameraEvent, subscriptionAddress: string): string {
  return (
    `<wsnt:NotificationMessage><wsnt:SubscriptionReference><wsa:Address>${x(subscriptionAddress)}</wsa:Address></wsnt:SubscriptionReference>` +
    `<wsnt:Topic Dialect="${CONCRETE_SET}">${e.topic}</wsnt:Topic><wsnt:Message>` +
    `<tt:Message UtcTime="${iso(e.utcTime)}" PropertyOperation="${e.operation}"><tt:Source><tt:SimpleItem Name="Source" Value="${VIDEO_SOURCE}"/></tt:Source>` +
    `<tt:Data><tt:SimpleItem Name="State" Value="${e.state}"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}

const pullMessages: Handler = async (req, ctx) => {
  const sub = subscriptionOf(req, ctx);
  const t = textAt(req.op, 'Timeout') ?? 'PT0S';
  const timeout = parseIsoDuration(t);
  if (timeout === undefined) throw new SoapFault(FAULTS.invalidArg('ter:InvalidArgs', `bad Timeout "${t}"`));
  const limitText = textAt(req.op, 'MessageLimit') ?? '1';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) throw new SoapFault(FAULTS.invalidArg('ter:InvalidArgs', `bad MessageLimit "${limitText}"`));
  const events = await ctx.events.pull(sub, limit, Math.min(timeout, MAX_PULL_MS), req.signal);
  const addr = subscriptionUrl(ctx, sub);
  return (
    `<tev:PullMessagesResponse><tev:CurrentTime>${iso(ctx.now())}</tev:CurrentTime><tev:TerminationTime>${iso(sub.terminationTime)}</tev:TerminationTime>` +
    `${events.map((e) => notificationXml(e, addr)).join('')}</tev:PullMessagesResponse>`
  );
};

const renew: Handler = (req, ctx) => {
  const sub = subscriptionOf(req, ctx);
  sub.terminationTime = termination(textAt(req.op, 'TerminationTime'), ctx);
  return `<wsnt:RenewResponse><wsnt:TerminationTime>${iso(sub.terminationTime)}</wsnt:TerminationTime><wsnt:CurrentTime>${iso(ctx.now())}</wsnt:CurrentTime></wsnt:RenewResponse>`;
};

const unsubscribe: Handler = (req, ctx) => {
  ctx.events.remove(subscriptionOf(req, ctx).id);
  return '<wsnt:UnsubscribeResponse/>';
};

const setSynchronizationPoint: Handler = (req, ctx) => {
  subscriptionOf(req, ctx);
  return '<tev:SetSynchronizationPointResponse/>';
};

const getServiceCapabilities: Handler = () =>
  '<tev:GetServiceCapabilitiesResponse><tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxPullPoints="32"/></tev:GetServiceCapabilitiesResponse>';

export const eventsService: ServiceTable = new Map<string, Handler>([
  [opKey(NS.tev, 'GetEventProperties'), getEventProperties],
  [opKey(NS.tev, 'CreatePullPointSubscription'), createPullPointSubscription],
  [opKey(NS.tev, 'PullMessages'), pullMessages],
  [opKey(NS.tev, 'SetSynchronizationPoint'), setSynchronizationPoint],
  [opKey(NS.tev, 'GetServiceCapabilities'), getServiceCapabilities],
  [opKey(NS.wsnt, 'Renew'), renew],
  [opKey(NS.wsnt, 'Unsubscribe'), unsubscribe],
]);
