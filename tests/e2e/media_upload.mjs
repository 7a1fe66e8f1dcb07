// Drives the media upload page (served by tests/e2e/test_media_browser.py) in Debian's headless
// Chromium and prints a JSON report on stdout: the page's own report (what it uploaded, where, what
// it played, the cue it read) plus every network response and failure.
//
//   node tests/e2e/media_upload.mjs PAGE_URL SCREENSHOT_PATH TIMEOUT_MS
import { chromium } from 'playwright-core';

const [pageUrl, screenshot, timeoutArg] = process.argv.slice(2);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

const report = { ok: false, page: null, responses: [], failures: [], console: [] };
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });
let page;
try {
  page = await browser.newPage({ viewport: { width: 800, height: 450 } });
  page.on('console', (msg) => report.console.push(`${msg.type()}: ${msg.text()}`));
  page.on('response', (response) => report.responses.push({ url: response.url(), status: response.status(),
    method: response.request().method() }));
  page.on('requestfailed', (request) => report.failures.push({ url: request.url(),
    error: request.failure()?.errorText || 'failed' }));
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.report && window.report.done, null,
    { timeout: Number(timeoutArg), polling: 250 });
  report.ok = true;
} catch (err) {
  report.error = String(err && err.stack || err);
} finally {
  if (page) {
    report.page = await page.evaluate(() => window.report || null).catch(() => null);
    await page.screenshot({ path: screenshot }).catch((err) => { report.screenshotError = String(err); });
  }
  await browser.close();
}
process.stdout.write(JSON.stringify(report));
