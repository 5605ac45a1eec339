// Renders a trace file with viewer.html in headless Chromium and saves a
// PNG: node screenshot.js TRACE.json OUT.png (needs playwright-core and
// /usr/bin/chromium; not part of CI).
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
(async () => {
  const [trace, out] = process.argv.slice(2);
  const profile = fs.mkdtempSync('/tmp/trace-shot-');
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1600, height: 560 },
  });
  const page = await browser.newPage();
  await page.goto('file://' + path.resolve(__dirname, 'viewer.html'));
  const arrows = await page.evaluate(t => render(t), fs.readFileSync(trace, 'utf8'));
  await page.screenshot({ path: out, fullPage: true });
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
  console.log(`${out}: ${arrows} arrows`);
})().catch(e => { console.error(e); process.exit(1); });
