// Makes a player theme on the dashboard's Players page in Debian's headless Chromium, then opens the
// embed page with it and prints a JSON report of what the page applied on stdout.
//
//   node tests/e2e/player_theme.mjs CONFIG_JSON
//
// CONFIG: {origin, apiKey, fileId, videoId, logo, theme: {background, text, accent}, screenshots}. The
// steps: log in; create the theme (colours, logo, bottom-left, autoplay + muted, no download button);
// open /embed?...&player=ID and measure it (computed colours, the video element's flags, the logo);
// give the video the theme with PATCH /api/videos/ID {player_id} and measure /embed without `player`.
import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2]);
const STEP_TIMEOUT = 30000;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const report = { ok: false, steps: [], console: [], failures: [] };
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });

async function step(name, fn) {
  const started = Date.now();
  const result = await fn();
  report.steps.push({ name, ms: Date.now() - started });
  return result;
}

// What the embed page at `url` applied, once its video plays on its own (autoplay) and the logo loaded.
async function measure(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => {
    const video = document.getElementById('video');
    const logo = document.getElementById('logo');
    return !video.paused && video.currentTime > 1 && !logo.hidden && logo.complete;
  }, null, { timeout: STEP_TIMEOUT, polling: 100 });
  return page.evaluate(() => {
    const video = document.getElementById('video');
    const logo = document.getElementById('logo');
    const style = (id, prop) => getComputedStyle(document.getElementById(id))[prop];
    const box = logo.getBoundingClientRect();
    return {
      background: style('player', 'backgroundColor'),
      videoBackground: style('video', 'backgroundColor'),
      text: style('watermark', 'color'),
      accent: style('loader', 'borderTopColor'),
      autoplay: video.autoplay,
      muted: video.muted,
      paused: video.paused,
      currentTime: video.currentTime,
      controls: video.controls,
      controlsList: [...video.controlsList],
      watermark: document.getElementById('watermark').textContent,
      logo: { src: logo.src, width: logo.naturalWidth, height: logo.naturalHeight, left: box.left, bottom: box.bottom,
        display: getComputedStyle(logo).display },
      viewport: { width: window.innerWidth, height: window.innerHeight },
    };
  });
}

let page;
try {
  const context = await browser.newContext({ viewport: { width: 800, height: 450 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('console', (msg) => report.console.push(`${msg.type()}: ${msg.text()}`));
  page.on('requestfailed', (request) => {
    report.failures.push({ url: request.url(), error: request.failure()?.errorText || 'failed' });
  });

  await step('login', async () => {
    await page.goto(`${config.origin}/dashboard/login`);
    await page.fill('#api_key', config.apiKey);
    await Promise.all([page.waitForURL(/\/dashboard\/settings/), page.click('#login-form button[type=submit]')]);
  });

  report.playerId = await step('create player', async () => {
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.click('nav a[href="/dashboard/players"]');
    await page.fill('#name', 'Academy player');
    await page.fill('#background_color', config.theme.background);
    await page.fill('#text_color', config.theme.text);
    await page.fill('#accent_color', config.theme.accent);
    await page.fill('#watermark', 'Academy');
    await page.setInputFiles('#logo', config.logo);
    await page.selectOption('#logo_position', 'bottom-left');
    await page.check('input[name=autoplay]');
    await page.check('input[name=muted]');
    await page.uncheck('input[name=buttons][value=download]');
    await page.screenshot({ path: `${config.screenshots}/dashboard-players.png`, fullPage: true });
    await Promise.all([page.waitForURL(/\/dashboard\/players\/pl_/), page.click('#player-form button[type=submit]')]);
    return (await page.textContent('#player-id')).trim();
  });

  const embed = `${config.origin}/embed?file=${encodeURIComponent(config.fileId)}&api_key=${encodeURIComponent(config.apiKey)}`;
  await page.setViewportSize({ width: 800, height: 450 });
  report.byParameter = await step('embed with player=', () => measure(page, `${embed}&player=${report.playerId}`));
  await page.screenshot({ path: `${config.screenshots}/player-theme.png` });

  report.patch = await step('set the video\'s player_id', async () => {
    const answer = await fetch(`${config.origin}/api/videos/${encodeURIComponent(config.videoId)}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${config.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ player_id: report.playerId }),
    });
    return { status: answer.status, body: await answer.json() };
  });
  report.byVideo = await step('embed of the video', () => measure(page, embed));
  report.ok = true;
} catch (err) {
  report.error = String(err && err.stack || err);
} finally {
  if (page) await page.screenshot({ path: `${config.screenshots}/player-theme-last.png` }).catch(() => {});
  await browser.close();
}
process.stdout.write(JSON.stringify(report));
