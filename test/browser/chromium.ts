import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). The browser tests are skipped without it. */
export const CHROMIUM = process.env.ABLATE_CHROMIUM ?? '/usr/bin/chromium';
/** Whether the system Chromium is there; when not, the browser tests are skipped with a note saying so. */
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`note: ${CHROMIUM} is absent: the headless-Chromium tests are skipped (apt-get install -y chromium)`);

/** Launches the system Chromium headless with a fresh profile, no network services, no sandbox (root in CI). */
export async function launchChromium(): Promise<{ browser: Browser; context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'ablate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const browser = context.browser() as Browser;
  return {
    browser,
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
