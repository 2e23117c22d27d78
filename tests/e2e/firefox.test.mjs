// The demo page in headless Firefox ESR, through geckodriver (WebDriver; Playwright drives only its own
// patched Firefox): the page loads the recognizer in its worker, runs the live loop on Firefox's fake camera
// (a synthetic picture, with no face in it), and enrols a person from photo files. Once with relaxed SIMD
// (the relaxed build) and once with it turned off (the plain build), as browsers without it get.
// Run: node --test tests/e2e/   (after scripts/build-web.sh; scripts/test.sh installs firefox-esr and geckodriver)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Builder, By } from 'selenium-webdriver';
import firefox from 'selenium-webdriver/firefox.js';
import { FACES, haveFaces, serve } from './lib.mjs';

let server;
before(async () => { server = await serve(); });
after(() => server && server.stop());

/** The path of a program, or null. */
function which(name) {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Headless Firefox ESR with a fake camera, and relaxed SIMD as asked. */
function launchFirefox(relaxedSimd) {
  const options = new firefox.Options()
    .addArguments('-headless')
    .setBinary(which('firefox-esr'))
    .setPreference('media.navigator.streams.fake', true)
    .setPreference('media.navigator.permission.disabled', true)
    .setPreference('javascript.options.wasm_relaxed_simd', relaxedSimd);
  return new Builder().forBrowser('firefox').setFirefoxOptions(options)
    .setFirefoxService(new firefox.ServiceBuilder(which('geckodriver'))).build();
}

/** Resolves when `predicate` (a script returning a boolean) holds in the page. */
async function until(driver, predicate, timeout = 120000) {
  await driver.wait(() => driver.executeScript(`return ${predicate}`), timeout, `waited for ${predicate}`);
}

for (const relaxedSimd of [true, false]) {
  test(`the demo page in Firefox ESR (relaxed SIMD ${relaxedSimd ? 'on' : 'off'}): live loop and enrolment`, { timeout: 300000 }, async (t) => {
    if (!which('firefox-esr') || !which('geckodriver')) {
      // CI installs both (scripts/test.sh): missing there, this fails rather than skips.
      if (process.env.CI) assert.fail('firefox-esr or geckodriver is missing');
      return t.skip('no firefox-esr or geckodriver');
    }
    const driver = await launchFirefox(relaxedSimd);
    try {
      await driver.get(server.url + '/?camera=on');
      await until(driver, 'window.localface.ready && window.localface.frames > 10 || window.localface.error !== null');
      const state = await driver.executeScript('return window.localface');
      assert.equal(state.error, null);
      assert.equal(state.kernels, relaxedSimd ? 'wasm simd128 + relaxed-simd' : 'wasm simd128');
      assert.equal(state.backend, 'cpu', 'Firefox ESR has no WebGPU');
      assert.deepEqual(state.faces, [], 'no face found in the fake camera\'s synthetic picture');
      if (!haveFaces()) return;
      await driver.findElement(By.id('name')).sendKeys('Ada');
      const photos = ['emotions-a/a1.jpg', 'emotions-a/a2.jpg'].map((p) => join(FACES, p)).join('\n');
      await driver.findElement(By.id('photos')).sendKeys(photos);
      await until(driver, 'window.localface.people.length === 1 && window.localface.people[0].samples === 2');
      assert.deepEqual(await driver.executeScript('return window.localface.people'), [{ name: 'Ada', samples: 2 }]);
    } finally {
      await driver.quit();
    }
  });
}
