/**
 * Default per-device topics: Baetyl's `dm/store.go` templates (`{product}` = the device's
 * deviceModel, `{device}` = its name). QoS follows the sub_devices.yml that baetyl-gateway ships:
 * 0 everywhere except `lifecycleReport`, which is 1 (online/offline must not be lost).
 */
import type { DeviceTopics, QosTopic } from './compiled.ts';

/** The topics Baetyl's core generates for a device. */
export function defaultTopics(product: string, device: string): DeviceTopics {
  const t = (topic: string, qos: 0 | 1 = 0): QosTopic => ({ topic, qos });
  return {
    report: t(`thing/${product}/${device}/property/post`),
    delta: t(`thing/${product}/${device}/property/invoke`),
    event: t(`thing/${product}/${device}/raw/c2d`),
    get: t(`$baetyl/device/${device}/get`),
    getResponse: t(`$baetyl/device/${device}/getResponse`),
    eventReport: t(`thing/${product}/${device}/event/post`),
    propertyGet: t(`thing/${product}/${device}/property/get`),
    lifecycleReport: t(`thing/${product}/${device}/lifecycle/post`, 1),
  };
}
