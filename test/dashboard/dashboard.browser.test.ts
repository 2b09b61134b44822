// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real `shic up` with
// real llama-servers: log in with a one-time link, watch deployments start and stop, release a lease, see a
// failure; stale links and requests without the cookie or the CSRF token are refused. Writes the README's
// screenshot to guides/images/dashboard.png.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIC_BIN, startShicDaemon, stopShicDaemons } from '../cli/shic-process.js';
import { realLlamaServer } from '../support/llama-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(import.meta.dirname, '../../guides/images/dashboard.png');
const daemons: ResultPromise[] = [];
let dir: string;
let stateDir: string;
let browser: BrowserContext;
let page: Page;
let controlUrl: string;
let gatewayUrl: string;

function shic(args: string[]) {
  return execa('node', [SHIC_BIN, ...args, '--state-dir', stateDir], { reject: false, timeout: 120_000 });
}

async function loginLink(): Promise<string> {
  const out = await shic(['ui', '--json']);
  expect(out.exitCode, out.stderr).toBe(0);
  return (JSON.parse(out.stdout) as { url: string }).url;
}

const row = (name: string) => page.locator(`tr[data-deployment="${name}"]`);

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const { modelPath } = await realLlamaServer();
  dir = await mkdtemp(join(tmpdir(), 'shic-dashboard-'));
  stateDir = join(dir, 'state');
  const config = join(dir, 'shic.yaml');
  await writeFile(
    config,
    [
      'deployments:',
      '  chat:',
      '    backend: llama-cpp',
      '    start: on-demand',
      `    bootSpec: { model: ${modelPath}, ctxSize: 512 }`,
      '  summarize:',
      '    backend: llama-cpp',
      '    start: eager',
      `    bootSpec: { model: ${modelPath}, ctxSize: 256 }`,
      '  broken:',
      '    backend: llama-cpp',
      '    start: on-demand',
      '    restartPolicy: { mode: never }',
      `    bootSpec: { model: ${modelPath}, extraArgs: ["--no-such-flag"] }`,
      '',
    ].join('\n'),
  );
  await startShicDaemon(['up', config, '--state-dir', stateDir], {
    env: {},
    stateDir,
    health: () => shic(['health', '--json']),
    daemons,
    timeoutMs: 120_000,
    intervalMs: 200,
    label: 'shic up (dashboard)',
  });
  const address = JSON.parse(
    await (await import('node:fs/promises')).readFile(join(stateDir, 'control.json'), 'utf8'),
  );
  controlUrl = address.url;
  gatewayUrl = address.gatewayUrl;
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 1000 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stopShicDaemons(daemons);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dashboard in Chromium (real shic up, real llama-servers)', () => {
  it('logs in with a one-time link and shows the deployments', async () => {
    await page.goto(await loginLink());
    expect(new URL(page.url()).pathname).toBe('/ui/');
    await expect.poll(() => page.locator('tbody tr[data-deployment]').count()).toBe(3);
    await expect.poll(() => row('summarize').getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');
    expect(await row('chat').getAttribute('data-state')).toBe('unloaded');
  });

  it('starts a deployment and shows it ready, with its lease counting down; releasing the lease removes it', async () => {
    await page.getByRole('button', { name: 'Start chat' }).click();
    await expect.poll(() => row('chat').getAttribute('data-state'), { timeout: 60_000 }).toBe('ready');
    // Its charged memory, as a bar against the residency budget (drawn through the CSSOM: CSP-safe).
    const meter = row('chat').locator('[role="meter"]');
    await expect.poll(() => meter.count()).toBe(1);
    expect(await row('chat').locator('.memory').textContent()).toMatch(/\d+ MiB/);
    // A small server on a large machine: the bar is a sliver (it would fill the meter if its width were blocked).
    const [bar, whole] = await Promise.all([meter.locator('span').boundingBox(), meter.boundingBox()]);
    expect(bar!.width).toBeGreaterThan(0);
    expect(bar!.width).toBeLessThan(whole!.width / 2);
    const lease = page.locator('#leases tbody tr[data-lease]');
    await expect.poll(() => lease.count()).toBe(1);
    expect(await lease.locator('td').first().textContent()).toBe('dashboard');
    const countdown = lease.locator('.countdown');
    const first = await countdown.textContent();
    await expect.poll(() => countdown.textContent()).not.toBe(first);
    await page.getByRole('button', { name: 'Release lease of dashboard' }).click();
    await expect.poll(() => lease.count()).toBe(0);
  });

  it('shows gateway requests with a chart, and writes the README screenshot', async () => {
    for (const model of ['chat', 'summarize', 'chat']) {
      const res = await request(`${gatewayUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 }),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    await expect.poll(() => page.locator('#requests tbody tr').count()).toBe(3);
    await expect.poll(() => page.locator('figure[data-chart="chat"] svg').count()).toBe(2);
    await page.getByRole('button', { name: 'Log of chat' }).click();
    await expect.poll(() => page.locator('#logs').textContent()).toContain('slot');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('stops an instance and shows a failed start with its message', async () => {
    await page.getByRole('button', { name: 'Stop chat' }).click();
    await expect.poll(() => row('chat').getAttribute('data-state'), { timeout: 30_000 }).toBe('unloaded');
    await page.getByRole('button', { name: 'Start broken' }).click();
    await expect
      .poll(() => row('broken').locator('.error').textContent(), { timeout: 60_000 })
      .toMatch(/process_exited|spawn_failed|readiness|no-such-flag/);
    expect(await page.locator('#alerts').textContent()).toContain('Start broken');
  });

  it('refuses a used or made-up login link, and calls without the cookie or the CSRF token', async () => {
    const link = await loginLink();
    const fresh = await browser.newPage();
    try {
      expect((await fresh.goto(link))?.status()).toBe(200);
      const reused = await fresh.goto(link);
      expect(reused?.status()).toBe(401);
      expect(await fresh.textContent('h1')).toBe('Login link not valid');
      expect((await fresh.goto(`${controlUrl}/ui/login?code=made-up`))?.status()).toBe(401);
    } finally {
      await fresh.close();
    }
    // No cookie (a plain client): 401.
    const anonymous = await request(`${controlUrl}/v1/instances`);
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
    // The browser's cookie without the CSRF token: reads work, changes are refused.
    const result = await page.evaluate(async () => {
      const read = await fetch('/v1/instances');
      const change = await fetch('/v1/endpoints/ensure', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deployment: 'chat' }),
      });
      return { read: read.status, change: change.status, body: await change.json() };
    });
    expect(result).toMatchObject({ read: 200, change: 403, body: { error: { code: 'csrf_failed' } } });
  });

  it('logs out: the session cookie stops working', async () => {
    // The previous test logged this browser in again (one cookie jar): reload to pick up that session's token.
    await page.reload();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => page.locator('#login-needed').isVisible()).toBe(true);
    const status = await page.evaluate(async () => (await fetch('/v1/instances')).status);
    expect(status).toBe(401);
  });
});
