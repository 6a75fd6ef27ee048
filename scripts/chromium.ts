/**
 * The headless Chromium the console's browser tests and screenshots drive: the system's (Debian's
 * `chromium` package, or Ubuntu's and Google's builds), or the one CHROMIUM_PATH names. No browser
 * is downloaded: playwright-core only drives it.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium to drive, or null when the machine has none. */
export function chromiumPath(): string | null {
  const named = process.env.CHROMIUM_PATH;
  if (named) return existsSync(named) ? named : null;
  return CANDIDATES.find((path) => existsSync(path)) ?? null;
}

export async function launchBrowser(executablePath: string): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, args: ["--disable-gpu", "--disable-dev-shm-usage"] });
}
