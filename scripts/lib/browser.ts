/**
 * Helpers for the browser suites: the storefront built once, Debian's Chromium driven by playwright-core
 * (no downloaded browsers: `CHROMIUM_PATH`, default /usr/bin/chromium), a screenshot of each test's final
 * screen in .artifacts/screenshots/, and the payment gateway's hosted page filled in as a reader would.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const storefront = join(root, 'storefront');
export const screenshotDir = join(root, '.artifacts', 'screenshots');

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = () => existsSync(chromiumPath);

async function newestMtime(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

/** Builds storefront/dist (what the gateway serves at /) unless it is newer than every source. */
export async function buildStorefront(): Promise<void> {
  const built = await newestMtime(join(storefront, 'dist', 'index.html'));
  const sources = Math.max(
    ...(await Promise.all(['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => newestMtime(join(storefront, p))))),
  );
  if (built > sources) return;
  await run(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: storefront });
}

export async function launchBrowser(): Promise<Browser> {
  if (!hasChromium()) throw new Error(`No Chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--disable-dev-shm-usage'] });
}

/** The test's final screen, as an artifact. Never throws: it runs in a finally, after a failure too. */
export async function screenshot(page: Page | undefined, name: string): Promise<string | undefined> {
  if (!page || page.isClosed()) return undefined;
  const file = join(
    screenshotDir,
    `${name
      .replace(/[^a-z0-9-]+/gi, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase()}.png`,
  );
  try {
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: file, fullPage: true, timeout: 15_000 });
    return file;
  } catch {
    return undefined;
  }
}

/** Next year's December as MM/YY: a card expiry that is always in the future. */
export const futureExpiry = () => `12/${String((new Date().getUTCFullYear() + 1) % 100).padStart(2, '0')}`;

/** Fills the gateway's hosted payment form by its labels and presses Pay. */
export async function payOnHostedPage(page: Page, card: string): Promise<void> {
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel('Expiry date').fill(futureExpiry());
  await page.getByLabel('Security code (CVC)').fill('123');
  await page.getByRole('button', { name: /^Pay / }).click();
}
