/**
 * Plant benchmark child: the cloud simulator (simulators/cloud) in a process of its own, so that
 * the gateway's CPU does not include it.
 *
 *   node --import tsx bench/plant/cloud-child.ts
 *
 * Answers `ready` with its MQTT `url`; requests: `stats` (the simulator's counters), `stop`.
 */
import { startCloudSimulator } from '../../simulators/cloud/index.ts';
import { runChild, serveParent } from '../lib/proc.ts';

async function main(): Promise<void> {
  const cloud = await startCloudSimulator({ port: 0, host: '127.0.0.1' });
  serveParent({
    stats: () => {
      const { nodes: _nodes, ...counters } = cloud.stats();
      return { ...counters };
    },
    stop: async () => {
      await cloud.close();
      process.exit(0);
    },
  });
  process.send?.({ type: 'ready', url: cloud.url });
}

runChild(main);
