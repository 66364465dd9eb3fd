// Headless Debian Chromium (/usr/bin/chromium, or CHROMIUM_PATH) through playwright-core,
// in a throwaway profile: `withChromium(name, async (context) => ...)` launches it, runs the
// body and always closes it and removes the profile.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function withChromium(name, body) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-chromium-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: FLAGS,
  });
  try {
    return await body(context);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

module.exports = { withChromium };
