// Drives the embed test page in Debian's headless Chromium and prints a JSON report on stdout.
//
//   node tests/e2e/player.mjs PAGE_URL SCREENSHOT_PATH SEEK_SECONDS
//
// The page (served by tests/e2e/test_player.py) iframes the embed player and collects every
// postMessage event in `window.playerEvents`; this script waits for `ready`, plays, seeks, asks for
// the state, pauses, takes a screenshot (also on failure) and reports the events and every network response and failure.
import { chromium } from 'playwright-core';

const [pageUrl, screenshot, seekArg] = process.argv.slice(2);
const seekTo = Number(seekArg);
const STEP_TIMEOUT = 20000;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const report = { ok: false, events: [], responses: [], failures: [], console: [], steps: [] };
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });

async function step(name, fn) {
  const started = Date.now();
  await fn();
  report.steps.push({ name, ms: Date.now() - started });
}

// Post `message` to the player, then wait until `condition(event, value)` holds for an event that
// arrived after it (it runs in the page, where `window.playerEvents` collects the events).
async function act(page, message, condition, value) {
  const seen = await page.evaluate((msg) => {
    document.getElementById('player').contentWindow.postMessage(msg, '*');
    return window.playerEvents.length;
  }, message);
  await page.waitForFunction(
    ([source, n, v]) => window.playerEvents.slice(n).some((e) => new Function('e', 'value', `return ${source}`)(e, v)),
    [condition, seen, value], { timeout: STEP_TIMEOUT, polling: 100 });
}

let page;
try {
  page = await browser.newPage({ viewport: { width: 800, height: 450 } });
  page.on('console', (msg) => report.console.push(`${msg.type()}: ${msg.text()}`));
  page.on('response', (response) => {
    const request = response.request();
    report.responses.push({
      url: response.url(), status: response.status(), type: request.resourceType(),
      referer: request.headers().referer || null,
    });
  });
  page.on('requestfailed', (request) => {
    report.failures.push({ url: request.url(), error: request.failure()?.errorText || 'failed' });
  });
  await step('load', () => page.goto(pageUrl));
  await step('ready', () => page.waitForFunction(() => window.playerEvents.some((e) => e.event === 'ready'),
    null, { timeout: STEP_TIMEOUT }));
  await step('play', () => act(page, { action: 'play' }, "e.event === 'timeupdate' && e.currentTime >= 2.5"));
  await step('seek', () => act(page, { action: 'seek', value: seekTo },
    "e.event === 'timeupdate' && e.currentTime >= value + 0.5", seekTo));
  await step('getState', () => act(page, { action: 'getState' },
    "e.event === 'statechange' && e.state.playing && e.state.currentTime >= value", seekTo));
  await step('pause', () => act(page, { action: 'pause' }, "e.event === 'statechange' && !e.state.playing"));
  report.ok = true;
} catch (err) {
  report.error = String(err && err.stack || err);
} finally {
  if (page) {
    report.events = await page.evaluate(() => window.playerEvents || []).catch(() => []);
    await page.screenshot({ path: screenshot }).catch((err) => { report.screenshotError = String(err); });
  }
  await browser.close();
}
process.stdout.write(JSON.stringify(report));
