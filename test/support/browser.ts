/**
 * Pages of the system's headless Chromium (scripts/chromium.ts) for the console's tests. Every
 * page is watched: a request to any origin but the service's, an uncaught error, a console error
 * or a 5xx answer fails the test that made it (`PageWatch.problems`). axe-core runs inside the
 * page for accessibility checks.
 */
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";

export { chromiumPath, launchBrowser } from "../../scripts/chromium";

export interface PageWatch {
  context: BrowserContext;
  page: Page;
  /** Requests to other origins, uncaught errors and console errors, in order. */
  problems: string[];
}

/** A fresh context and page for the service at `origin`, watched for foreign requests and errors. */
export async function openPage(browser: Browser, origin: string, viewport = { width: 1360, height: 900 }): Promise<PageWatch> {
  const context = await browser.newContext({ viewport, baseURL: origin });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    // data: URLs (fonts and icons inside stylesheets) are not requests to anyone.
    if (url.protocol === "data:") return;
    const sameOrigin = url.host === new URL(origin).host && (url.protocol === "http:" || url.protocol === "ws:");
    if (!sameOrigin) problems.push(`request to another origin: ${request.url()}`);
  });
  page.on("websocket", (socket) => {
    if (new URL(socket.url()).host !== new URL(origin).host) problems.push(`WebSocket to another origin: ${socket.url()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught error: ${error.message}`));
  page.on("response", async (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} from ${response.request().method()} ${response.url()}: ${await response.text().catch(() => "")}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  return { context, page, problems };
}

const axeSource = () => readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.x A and AA rules, and best practices). */
export async function seriousAxeFindings(page: Page): Promise<AxeFinding[]> {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await page.evaluate(axeSource());
  // An expression, not a function: this project type-checks without the DOM library.
  const { violations } = await page.evaluate<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }>(
    "axe.run(document, { resultTypes: ['violations'] })",
  );
  return violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({ id: violation.id, impact: violation.impact!, help: violation.help, targets: violation.nodes.map((node) => node.target.join(" ")) }));
}
