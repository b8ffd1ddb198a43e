// Worker bootstrap (plain JavaScript because it runs before TypeScript can load): tsx's `--import`
// hook does not apply inside worker threads on Node 20, so register tsx's ESM loader here, then
// load the TypeScript worker entry. `workerData.boot` = { tsxApi, main } (file: URLs).
import { workerData } from 'node:worker_threads';

const { tsxApi, main } = workerData.boot;
if (tsxApi) {
  const api = await import(tsxApi);
  api.register();
}
await import(main);
