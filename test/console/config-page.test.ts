/**
 * The configuration page in headless Chromium: sub_devices.yml is edited on disk under the running
 * gateway, the page previews the reload (POST /api/v1/config/plan) with the edited device listed
 * as restarted, Apply reloads it and GET /api/v1/devices shows the new interval; a broken edit
 * lists its issue with file:line and keeps Apply disabled. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
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

const text = async (selector: string) => (await page.locator(selector).first().textContent({ timeout: 5000 })) ?? '';
const names = (group: string) => page.locator(`[data-group="${group}"] .plan-item`).evaluateAll((els) => els.map((e) => e.getAttribute('data-device')));
const devicesFile = () => path.join(rig.dir, 'modbus', 'sub_devices.yml');

async function intervalOf(name: string): Promise<number | undefined> {
  const res = await fetch(`${rig.base}/api/v1/devices`);
  assert.equal(res.status, 200);
  const list = (await res.json()) as { name: string; interval: number }[];
  return list.find((d) => d.name === name)?.interval;
}

before(async () => {
  [rig, browser] = await Promise.all([startRig(), launchChromium()]);
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  await rig?.stop();
});

test('an unedited configuration has nothing to reload and Apply is disabled', async () => {
  await page.goto(`${rig.base}/#/config`);
  await until(async () => /Nothing to reload/.test(await text('#plan-result')), 8000, 'the initial plan');
  assert.match(await text('#plan-result'), /match the running configuration \(3 devices\)/);
  assert.equal(await text('[data-group="unchanged"] .plan-count'), '3');
  assert.equal(await page.locator('#plan-apply').isDisabled(), true);
});

test('an edited interval is listed as a restart; Apply reloads it and the API shows the new interval', async () => {
  assert.equal(await intervalOf('meter-7'), 200);
  const before = readFileSync(devicesFile(), 'utf8');
  const edited = before.replace('{id: 2, interval: 200ms', '{id: 2, interval: 750ms');
  assert.notEqual(edited, before, 'the meter line was found');
  writeFileSync(devicesFile(), edited);

  await page.click('#plan-run');
  await page.waitForSelector('[data-group="changed"] .plan-item[data-device="meter-7"]', { timeout: 8000 });
  assert.deepEqual(await names('changed'), ['meter-7']);
  assert.deepEqual(await names('added'), []);
  assert.deepEqual(await names('removed'), []);
  assert.equal(await text('[data-group="unchanged"] .plan-count'), '2');
  assert.match(await text('#plan-result'), /1 change pending\. A reload would add 0, remove 0 and restart 1 device; 2 unchanged\./);
  assert.equal(await page.locator('#plan-apply').isEnabled(), true);
  assert.equal(await intervalOf('meter-7'), 200, 'a preview applies nothing');
  await page.screenshot({ path: path.join(SHOTS, 'console-config-plan.png'), fullPage: true });

  await page.click('#plan-apply');
  await until(async () => /Reload applied/.test(await text('#plan-result')), 8000, 'the reload result');
  assert.match(await text('#plan-result'), /Added 0, removed 0 and restarted 1 device; 2 unchanged\./);
  assert.deepEqual(await names('changed'), ['meter-7']);
  assert.equal(await page.locator('#plan-apply').isDisabled(), true, 'an applied plan cannot be applied twice');
  assert.equal(await intervalOf('meter-7'), 750);
  assert.equal(await intervalOf('boiler-1'), 200);
  await page.screenshot({ path: path.join(SHOTS, 'console-config-applied.png'), fullPage: true });

  // The restarted device polls again.
  await until(async () => rig.gateway.devices.get('meter-7')?.isOnline === true, 5000, 'meter-7 online after its restart');
  await page.click('#plan-run');
  await until(async () => /Nothing to reload/.test(await text('#plan-result')), 8000, 'an empty plan after the reload');
});

test('a broken edit lists its issue with file:line and keeps Apply disabled', async () => {
  const before = readFileSync(devicesFile(), 'utf8');
  const lines = before.split('\n');
  const at = lines.findIndex((l) => /deviceModel: meter/.test(l));
  assert.ok(at > 0, 'the meter model line was found');
  lines[at] = lines[at]!.replace('deviceModel: meter', 'deviceModel: no-such-model');
  writeFileSync(devicesFile(), lines.join('\n'));

  await page.click('#plan-run');
  await page.waitForSelector('#plan-result .issue', { timeout: 8000 });
  assert.match(await text('#plan-result .alert-bad'), /issue.*a reload would be refused/);
  const where = await text('#plan-result .issue-where');
  assert.match(where, new RegExp(`sub_devices\\.yml:${at + 1}\\b`), `the issue points at line ${at + 1}: ${where}`);
  assert.match(await text('#plan-result .issue'), /no-such-model/);
  assert.equal(await page.locator('#plan-apply').isDisabled(), true);
  assert.equal(await intervalOf('meter-7'), 750, 'the running configuration stays');
  await page.screenshot({ path: path.join(SHOTS, 'console-config-issues.png'), fullPage: true });
  assert.deepEqual(pageErrors, [], 'no script errors on the page');
});
