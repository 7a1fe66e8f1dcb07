// Drives the dashboard in Debian's headless Chromium and prints a JSON report on stdout.
//
//   node tests/e2e/dashboard.mjs CONFIG_JSON
//
// CONFIG: {origin, apiKey, clip, webhookUrl, screenshots}. The steps: log in; a form stripped of its
// CSRF token is refused; set the webhook URL; change the whitelist and test a Referer; rotate the
// signing key; drop the clip on the uploads page (TUS) and watch the progress bar reach 100 %; play
// it on its media page; redeliver its webhook; draw the usage charts; log out; open the API reference. Screenshots of each
// page go to CONFIG.screenshots (docs/dashboard.md shows them).
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2]);
const STEP_TIMEOUT = 30000;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];

const report = { ok: false, steps: [], console: [], responses: [], failures: [] };
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ARGS });

async function step(name, fn) {
  const started = Date.now();
  const result = await fn();
  report.steps.push({ name, ms: Date.now() - started });
  return result;
}

async function shot(page, name) {
  await page.screenshot({ path: `${config.screenshots}/dashboard-${name}.png`, fullPage: true });
}

let page;
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('dialog', (dialog) => dialog.accept());
  page.on('console', (msg) => report.console.push(`${msg.type()}: ${msg.text()}`));
  page.on('response', (response) => {
    const request = response.request();
    report.responses.push({ url: response.url(), status: response.status(), type: request.resourceType(),
      method: request.method(), referer: request.headers().referer || null });
  });
  page.on('requestfailed', (request) => {
    report.failures.push({ url: request.url(), error: request.failure()?.errorText || 'failed' });
  });

  await step('login', async () => {
    await page.goto(`${config.origin}/dashboard`);
    await page.waitForURL(/\/dashboard\/login/);
    await shot(page, 'login');
    await page.fill('#api_key', config.apiKey);
    await Promise.all([page.waitForURL(/\/dashboard\/settings/), page.click('#login-form button[type=submit]')]);
    const cookies = await context.cookies();
    report.cookie = cookies.find((c) => c.name === 'mediaedge_dashboard') || null;
    report.cookieVisibleToScript = await page.evaluate(() => document.cookie.includes('mediaedge_dashboard'));
  });

  await step('csrf refusal', async () => {
    await page.fill('#domains', 'csrf-attack.example');
    await page.evaluate(() => document.querySelector('#whitelist-form input[name=csrf]').remove());
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/dashboard/settings/whitelist')),
      page.click('#whitelist-form button[type=submit]'),
    ]);
    report.csrf = { status: response.status(), body: await response.json() };
    await page.goto(`${config.origin}/dashboard/settings`);
  });

  await step('webhook url', async () => {
    await page.fill('#webhook_url', config.webhookUrl);
    await page.click('#webhook-form button[type=submit]');
    await page.waitForSelector('.notice:has-text("Webhook URL saved")');
  });

  await step('whitelist', async () => {
    await page.fill('#domains', 'school.example\n*.school.example');
    await page.fill('#app_ids', '');
    await page.click('#whitelist-form button[type=submit]');
    await page.waitForSelector('.notice:has-text("Whitelist saved")');
    await page.fill('#test-referer', 'https://evil.example/lesson');
    await page.click('#whitelist-test button[type=submit]');
    report.testRefused = (await page.textContent('#test-result')).trim();
    await page.fill('#test-referer', 'https://www.school.example/lesson');
    await page.click('#whitelist-test button[type=submit]');
    report.testAllowed = (await page.textContent('#test-result')).trim();
    report.domains = await page.inputValue('#domains');
  });

  await step('rotate signing key', async () => {
    await page.click('#rotate-form button[type=submit]');
    report.signingKey = (await page.textContent('#new-signing-key')).trim();
    await shot(page, 'settings');
  });

  await step('upload', async () => {
    await page.goto(`${config.origin}/dashboard/uploads`);
    const bytes = readFileSync(config.clip).toString('base64');
    // Drop the clip on the drop zone, as a user dragging it from their desktop would.
    await page.evaluate(({ data, name }) => {
      const raw = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([raw], name, { type: 'video/mp4' }));
      const zone = document.getElementById('upload-zone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, { data: bytes, name: 'lesson-1.mp4' });
    report.progress = [];
    const item = page.locator('li.upload').first();
    for (;;) {
      const state = await item.getAttribute('data-state');
      report.progress.push(Number(await item.locator('progress').getAttribute('value')));
      if (state === 'done' || state === 'failed') break;
      await page.waitForTimeout(50);
    }
    report.uploadState = await item.getAttribute('data-state');
    report.uploadText = await item.textContent();
    report.fileId = await item.getAttribute('data-file-id');
    report.progressShown = (await item.locator('.pct').textContent()).trim();
    await shot(page, 'uploads');
  });

  await step('play', async () => {
    await page.goto(`${config.origin}/dashboard/media/${report.fileId}`);
    const frame = await (await page.waitForSelector('iframe#player')).contentFrame();
    await frame.waitForSelector('video');
    await frame.evaluate(() => { const v = document.querySelector('video'); v.muted = true; return v.play(); });
    await frame.waitForFunction(() => document.querySelector('video').currentTime >= 1.5, null,
      { polling: 100, timeout: STEP_TIMEOUT });
    report.played = await frame.evaluate(() => {
      const v = document.querySelector('video');
      return { currentTime: v.currentTime, duration: v.duration, src: v.currentSrc, error: v.error && v.error.code };
    });
    await frame.evaluate(() => document.querySelector('video').pause());
    await shot(page, 'media');
    await page.goto(`${config.origin}/dashboard/media`);
    report.mediaListed = await page.locator(`tr[data-asset-id="${report.fileId}"]`).count();
  });

  await step('redeliver', async () => {
    await page.goto(`${config.origin}/dashboard/webhooks`);
    const link = page.locator('#deliveries a').first();
    await link.click();
    await page.waitForSelector('#delivery-status:has-text("delivered")', { timeout: STEP_TIMEOUT });
    report.deliveryId = page.url().split('/').pop();
    await page.click('#redeliver-form button[type=submit]');
    await page.waitForSelector('.notice:has-text("Queued for delivery again")');
    // Reload until the dispatcher has sent it again.
    for (;;) {
      await page.goto(`${config.origin}/dashboard/webhooks/${report.deliveryId}`);
      const attempts = await page.locator('#attempts tbody tr').count();
      const status = (await page.textContent('#delivery-status')).trim();
      if (attempts >= 2 && status === 'delivered') break;
      await page.waitForTimeout(200);
    }
    report.attemptRows = await page.locator('#attempts tbody tr').count();
    await shot(page, 'webhook');
  });

  await step('usage', async () => {
    // The edge reports what it delivered every edge.usage_report s (1 s here): the playback shows up.
    for (const deadline = Date.now() + 20000; ; ) {
      await page.goto(`${config.origin}/dashboard/usage`);
      report.edgeBytes = (await page.textContent('#chart-edge_bytes .total')).trim();
      if (report.edgeBytes !== '0 B' || Date.now() > deadline) break;
      await page.waitForTimeout(500);
    }
    await page.waitForSelector('[data-chart="upload_bytes"][data-drawn="true"] canvas');
    report.charts = await page.locator('[data-drawn="true"]').count();
    report.edgeRequests = (await page.textContent('#chart-edge_requests .total')).trim();
    await shot(page, 'usage');
  });

  await step('logout', async () => {
    await page.goto(`${config.origin}/dashboard/settings`);
    await Promise.all([page.waitForURL(/\/dashboard\/login/), page.click('#logout')]);
    await page.goto(`${config.origin}/dashboard/settings`);
    report.afterLogout = new URL(page.url()).pathname;
  });
  await step('api reference', async () => {
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`${config.origin}/docs`);
    await page.waitForSelector('.opblock-tag-section', { timeout: STEP_TIMEOUT });
    report.docsTags = await page.locator('.opblock-tag').allTextContents();
    report.docsOperations = await page.locator('.opblock').count();
    report.docsErrors = errors;
    await shot(page, 'docs');
  });
  report.ok = true;
} catch (err) {
  report.error = String(err && err.stack || err);
  if (page) await page.screenshot({ path: `${config.screenshots}/dashboard-failure.png` }).catch(() => {});
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report));
