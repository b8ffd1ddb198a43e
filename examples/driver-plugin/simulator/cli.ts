/** `npm run simulate -- [port]`: a KV/1 instrument with a temperature that drifts, on 127.0.0.1. */
import { startKvSimulator } from './kv-simulator.ts';

const port = Number(process.argv[2] ?? 7070);
const sim = await startKvSimulator({
  port,
  keys: { temp: { value: '21.5' }, humidity: { value: '40' }, 'fan.on': { value: '0', writable: true }, serial: { value: 'KV-0001' } },
});
let t = 21.5;
const timer = setInterval(() => {
  t = Math.round((t + (Math.random() - 0.5) * 0.4) * 10) / 10;
  sim.set('temp', t);
}, 1000);
process.stderr.write(`KV/1 instrument on ${sim.host}:${sim.port}; try: printf 'GET temp\\n' | nc ${sim.host} ${sim.port}\n`);
process.once('SIGINT', () => {
  clearInterval(timer);
  void sim.close();
});
