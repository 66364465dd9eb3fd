// Opens the API docs page (/docs) in headless Chromium (Debian's /usr/bin/chromium) with
// playwright-core, once per family, and counts the operations Swagger UI renders.
// (It lives beside the Klip scripts because that is where the e2e node_modules are.)
// Config: one JSON argument {rest_url, families: {name: operations expected}}; prints
// {"families": {name: {operations, title, errors}}} as JSON.
'use strict';
const { withChromium } = require('./chromium');

const config = JSON.parse(process.argv[2]);

(async () => {
  const families = {};
  await withChromium('docs', async (context) => {
    for (const [family, expected] of Object.entries(config.families)) {
      const errors = [];
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 16000 });  // fewer scroll steps
      page.on('pageerror', (error) => errors.push(String(error)));
      page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
      page.on('requestfailed', (request) => errors.push(`failed: ${request.url()}`));
      page.on('response', (response) => {
        if (response.status() >= 400) errors.push(`${response.status()}: ${response.url()}`);
      });
      await page.goto(`${config.rest_url}/docs?family=${family}`);
      await page.locator('.opblock').first().waitFor({ timeout: 30000 });
      // Swagger UI renders operations as they scroll into view: scroll down, collecting
      // the ids of the operations it has rendered, until all are seen or nothing new comes.
      const seen = new Set();
      for (let quiet = 0; seen.size < expected && quiet < 40;) {
        const ids = await page.locator('.opblock').evaluateAll((blocks) => blocks.map((b) => b.id));
        const before = seen.size;
        ids.forEach((id) => seen.add(id));
        quiet = seen.size === before ? quiet + 1 : 0;
        await page.evaluate(() => window.scrollBy(0, 8000));
        await page.waitForTimeout(250);
      }
      const title = (await page.locator('.info .title').first().textContent()).trim();
      families[family] = { operations: seen.size, title, errors };
      await page.close();
    }
  });
  console.log(JSON.stringify({ families }));
})().catch((error) => { console.error(error); process.exit(1); });
