// Walks the dashboard in the system Chromium: fleet page, a package search, a deployment, an SBOM download, a
// diff, the hits found in the last day and the feed page, at desktop and phone widths. Prints one JSON object: screenshots taken, console errors, axe-core's
// serious and critical violations, and what the downloaded SBOM held. The .NET browser tests judge it.
// Usage: node dashboard-walk.mjs BASE_URL OUTPUT_FOLDER DEPLOYMENT
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [base, out, deployment] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const result = { screenshots: [], consoleErrors: [], violations: [], download: null, texts: {} };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const [label, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const page = await context.newPage();
    page.on('console', m => { if (m.type() === 'error') result.consoleErrors.push(`${label}: ${m.text()} (${m.location().url})`); });
    page.on('pageerror', e => result.consoleErrors.push(`${label}: ${e.message}`));

    const check = async name => {
      const file = path.join(out, `${label}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      result.screenshots.push(file);
      await page.evaluate(axeSource);
      const axe = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
      for (const v of axe.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')) {
        result.violations.push(`${label}-${name}: ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
      }
      result.texts[`${label}-${name}`] = await page.locator('main').innerText();
    };

    await page.goto(base);
    await check('fleet');
    // The search works from the keyboard: type, then Enter.
    await page.getByLabel('Who is affected by').fill('axios');
    await Promise.all([page.waitForURL(/\?q=axios/), page.getByLabel('Who is affected by').press('Enter')]);
    await check('search');
    await Promise.all([page.waitForURL(/\/deployments\//), page.getByRole('link', { name: deployment }).first().click()]);
    await check('deployment');
    if (label === 'desktop') {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'CycloneDX' }).click()]);
      const file = path.join(out, download.suggestedFilename());
      await download.saveAs(file);
      const bom = JSON.parse(readFileSync(file, 'utf8'));
      result.download = { file, bomFormat: bom.bomFormat, components: (bom.components || []).length };
    }
    await Promise.all([page.waitForURL(/\/diff\?/), page.getByRole('button', { name: 'Show the differences' }).click()]);
    await check('diff');
    // The Hits page (found in the last 24 hours), from the main navigation.
    await Promise.all([page.waitForURL(/\/hits\?since=24h$/), page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hits', exact: true }).click()]);
    await check('hits');
    // The Feed page, when the server was given a feed: reached from the main navigation.
    const feedLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Feed', exact: true });
    if (await feedLink.count() > 0) {
      await Promise.all([page.waitForURL(/\/feed$/), feedLink.click()]);
      await check('feed');
      result.texts[`${label}-feed-svg-bars`] = String(await page.locator('svg rect.bar').count());
    }
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
