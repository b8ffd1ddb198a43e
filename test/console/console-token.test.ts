/**
 * The console on a gateway with an API token, in headless Chromium: the page loads without the
 * token, asks for it when the API answers 401, says so when the token is refused, keeps the
 * accepted one in sessionStorage, and the live stream works with it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchChromium, SHOTS, until } from './browser.ts';
import type { Browser } from './browser.ts';
import { startRig } from './setup.ts';
import type { ConsoleRig } from './setup.ts';

const TOKEN = 'console-token-0123456789';
let rig: ConsoleRig;
let browser: Browser;

before(async () => {
  [rig, browser] = await Promise.all([startRig({ token: TOKEN }), launchChromium()]);
});

after(async () => {
  await browser?.close();
  await rig?.stop();
});

test('with a token, the console asks for it and keeps it for the tab', async () => {
  const tab = browser.context.pages()[0] ?? (await browser.context.newPage());
  await tab.goto(`${rig.base}/`);
  await tab.waitForSelector('#token-form', { timeout: 10_000 });
  assert.equal(await tab.locator('#device-table').count(), 0, 'no data before the token');
  await tab.fill('#token-input', 'not-the-token-0000000');
  await tab.click('#token-form button[type=submit]');
  await tab.waitForSelector('#token-form .alert-bad', { timeout: 5000 });
  assert.match((await tab.locator('#token-form .alert-bad').textContent()) ?? '', /refused/);
  await tab.screenshot({ path: path.join(SHOTS, 'console-token.png') });
  await tab.fill('#token-input', TOKEN);
  await tab.click('#token-form button[type=submit]');
  await tab.waitForSelector('#device-table tbody tr[data-device="boiler-1"]', { timeout: 10_000 });
  assert.equal(await tab.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('fieldgate.token')), TOKEN);
  assert.equal(await tab.locator('#token-form').count(), 0, 'the prompt is gone');
  // The live stream is authorized with it too: a device page follows the simulator.
  await tab.click('a.device-name:text-is("boiler-1")');
  await tab.waitForSelector('[data-prop="temperature"] .tile-value');
  rig.sim.device('boiler-1').set('temperature', 70.7);
  await until(async () => (await tab.locator('[data-prop="temperature"] .tile-value').textContent()) === '70.7', 5000, 'temperature 70.7 on the page');
});
