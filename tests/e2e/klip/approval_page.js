// Clicks through the approval page in headless Chromium (Debian's /usr/bin/chromium)
// with playwright-core. Config: one JSON argument
//   {rest_url, user: {email, password}, requests: [{request_key, bapp, expect_rows: [[label, value]]}],
//    screenshot_dir?}
// For each request: open the page, check what it shows, log in, approve; prints JSON.
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const { withChromium } = require('./chromium');

const config = JSON.parse(process.argv[2]);

(async () => {
  const out = [];
  await withChromium('approval', async (context) => {
    for (const request of config.requests) {
      const pageErrors = [];
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      page.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(msg.text()); });
      const response = await page.goto(`${config.rest_url}/a2a?request_key=${request.request_key}`);
      assert.equal(response.status(), 200);
      assert.match(response.headers()['content-type'], /^text\/html/);
      await page.locator('#status', { hasText: 'prepared' }).waitFor({ timeout: 15000 });
      assert.equal(await page.locator('#bapp-name').textContent(), request.bapp);
      const rows = await page.locator('#rows tr').evaluateAll((trs) => trs.map(
        (tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
      for (const row of request.expect_rows || []) {
        assert.ok(rows.some((r) => r[0] === row[0] && r[1] === row[1]), `row ${row} in ${JSON.stringify(rows)}`);
      }
      await page.fill('#login', config.user.email);
      await page.fill('#password', config.user.password);
      await page.click('#login-button');
      await page.locator('#decision').waitFor({ state: 'visible', timeout: 15000 });
      const address = await page.locator('#address').textContent();
      await page.click('#approve-button');
      await page.locator('#status', { hasText: 'completed' }).waitFor({ timeout: 15000 });
      const outcome = await page.locator('#outcome').textContent();
      if (config.screenshot_dir) {
        await page.screenshot({ path: path.join(config.screenshot_dir, `${request.request_key}.png`), fullPage: true });
      }
      assert.deepEqual(pageErrors, []);
      out.push({ request_key: request.request_key, address, outcome, rows });
      await page.close();
    }
  });
  console.log(JSON.stringify(out));
})().catch((error) => {
  console.error(error && error.stack || error);
  process.exit(1);
});
