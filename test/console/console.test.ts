/**
 * The web console in real headless Chromium (Debian `chromium`, driven by playwright-core)
 * against a gateway polling the Modbus simulator: the device list with its badges, live values
 * arriving over the event stream, a write that reaches the simulator's register, a refused value
 * shown next to its field, and the drivers and configuration pages (the token prompt is in
 * console-token.test.ts, so that each file stays short).
 * Screenshots go to test-results/ (gitignored).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, SHOTS, until } from './browser.ts';
import type { Browser } from './browser.ts';
import { startRig } from './setup.ts';
import type { ConsoleRig } from './setup.ts';

let rig: ConsoleRig;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function shot(name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage });
}

const text = (selector: string) => page.locator(selector).first().textContent({ timeout: 5000 });

before(async () => {
  [rig, browser] = await Promise.all([startRig(), launchChromium()]);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  await rig?.stop();
});

test('the device list shows every device with its state, driver and counters', async () => {
  await page.goto(`${rig.base}/`);
  await page.waitForSelector('#device-table tbody tr[data-device="chiller-2"]', { timeout: 10_000 });
  const rows = await page.locator('#device-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-device')));
  assert.deepEqual(rows, ['boiler-1', 'meter-7', 'chiller-2']);
  assert.equal(await page.locator('tr[data-device="boiler-1"] [data-state]').getAttribute('data-state'), 'online');
  assert.equal(await page.locator('tr[data-device="chiller-2"] [data-state]').getAttribute('data-state'), 'offline');
  assert.match((await text('tr[data-device="chiller-2"] .error-cell')) ?? '', /ECONNREFUSED|backoff|connect/);
  assert.match((await text('tr[data-device="meter-7"]')) ?? '', /modbus/);
  // Counters follow the polls live (the list refreshes on status events).
  const polls = async () => Number(((await text('tr[data-device="meter-7"] td:nth-child(6)')) ?? '0').replace(/\D/g, ''));
  const first = await polls();
  await until(async () => (await polls()) > first, 5000, 'the poll counter to move');
  await shot('devices');
});

test('a device page shows live values that follow the simulator', async () => {
  await page.click('a.device-name:text-is("boiler-1")');
  await page.waitForSelector('[data-prop="temperature"] .tile-value');
  assert.equal(new URL(page.url()).hash, '#/devices/boiler-1');
  await until(async () => (await text('[data-prop="temperature"] .tile-value')) === '61.5', 5000, 'temperature 61.5');
  assert.equal(await text('[data-prop="pressure"] .tile-value'), '1.85');
  for (const [i, v] of [62.3, 63.1, 64.2].entries()) {
    rig.sim.device('boiler-1').set('temperature', v);
    rig.sim.device('boiler-1').set('pressure', 1.85 + (i + 1) * 0.03);
    await until(async () => (await text('[data-prop="temperature"] .tile-value')) === String(v), 5000, `temperature ${v} on the page`);
  }
  // The sparkline has a drawn line once there are samples.
  const d = await page.locator('[data-prop="temperature"] .spark-line').getAttribute('d');
  assert.match(d ?? '', /^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+$/);
  assert.match((await text('[data-prop="temperature"] .tile-range')) ?? '', /61\.5 – 64\.2/);
  assert.match((await text('#lifecycle')) ?? '', /Online/);
});

test('setting a desired value writes the simulator register; a refused value is shown next to its field', async () => {
  const holding = () => rig.sim.device('boiler-1').readRaw('holding', 0, 1)[0];
  assert.equal(holding(), 650);
  await page.fill('#set-setpoint', '72.5');
  await page.click('#desired-form button[type=submit]');
  await until(() => holding() === 725, 5000, 'holding register 0 = 725');
  await until(async () => /Written: setpoint = 72\.5/.test((await text('#desired-form .form-status')) ?? ''), 5000, 'the success message');
  await until(async () => (await text('[data-prop="setpoint"] .tile-value')) === '72.5', 5000, 'setpoint 72.5 read back');
  await until(async () => (await text('#desired-form tr[data-prop="setpoint"] td')) === '72.5', 5000, 'reported setpoint in the shadow table');

  await page.fill('#set-setpoint', '95');
  await page.click('#desired-form button[type=submit]');
  await until(async () => ((await text('#err-setpoint')) ?? '') !== '', 5000, 'the field error');
  assert.match((await text('#err-setpoint')) ?? '', /95.*90/);
  assert.match((await page.locator('#set-setpoint').getAttribute('class')) ?? '', /field-invalid/);
  assert.match((await text('#desired-form .form-status')) ?? '', /Nothing was written/);
  assert.equal(holding(), 725, 'the refused value was not written');
  await shot('device', true);
});

test('drivers and configuration pages', async () => {
  await page.click('a.nav-item[data-nav="drivers"]');
  await page.waitForSelector('#link-table tbody tr');
  assert.match((await text('[data-driver="modbus"]')) ?? '', /Modbus/);
  assert.match((await text('#link-table')) ?? '', /online/);
  assert.match((await text('#link-table')) ?? '', /backoff|connecting/);
  await shot('drivers');
  await page.click('a.nav-item[data-nav="config"]');
  await page.click('text=Validate configuration');
  await until(async () => /valid/.test((await text('#validate-result')) ?? ''), 5000, 'the validation result');
  assert.match((await text('#validate-result')) ?? '', /The configuration is valid\. It defines 3 devices/);
  await shot('config');
  assert.deepEqual(pageErrors, [], 'no script errors on the page');
});
