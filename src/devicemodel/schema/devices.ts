/**
 * `sub_devices.yml`: `{devices: [DeviceInfo], driver: "<string>"}` with exactly Baetyl's keys
 * (`baetyl-go dmcontext/device.go DeviceInfo`, `DeviceTopic`). `accessConfig.<driver>` is kept
 * as-is here and parsed by the driver's `connectionSchema` at compile.
 */
import { z } from 'zod';
import { topicName } from './common.ts';

/** `{qos, topic}`; an empty topic means "use the default". */
export const qosTopicSchema = z.strictObject({
  qos: z
    .union([z.literal(0), z.literal(1), z.literal('0'), z.literal('1')])
    .transform((v) => (Number(v) === 1 ? 1 : 0) as 0 | 1)
    .default(0),
  topic: z.string().default(''),
});

/** The eight topic keys of Baetyl's `DeviceTopic`. */
export const TOPIC_KEYS = ['delta', 'report', 'event', 'get', 'getResponse', 'eventReport', 'propertyGet', 'lifecycleReport'] as const;
export type TopicKey = (typeof TOPIC_KEYS)[number];

export const deviceTopicSchema = z.strictObject(
  Object.fromEntries(TOPIC_KEYS.map((k) => [k, qosTopicSchema.nullish()])) as Record<TopicKey, z.ZodOptional<z.ZodNullable<typeof qosTopicSchema>>>,
);

/** One sub-device. */
export const deviceSchema = z.strictObject({
  name: topicName('device'),
  version: z.union([z.string(), z.number()]).transform(String).optional(),
  deviceModel: topicName('product'),
  accessTemplate: z.string().min(1),
  deviceTopic: deviceTopicSchema.nullish(),
  /** `{ <driverId>: connection }`; `custom` is a JSON string in Baetyl. */
  accessConfig: z.record(z.string(), z.unknown()),
});
export type DeviceInput = z.output<typeof deviceSchema>;

/** The whole file; devices are parsed one by one so that one bad device does not hide the others. */
export const devicesFileSchema = z.strictObject({
  devices: z.array(z.unknown()).nullish().transform((v) => v ?? []),
  driver: z.string().nullish().transform((v) => v ?? ''),
});
