import { retryDelay } from "../../../src/webhooks/dispatcher";
import { nonPublicRange, UrlPolicy, UrlRefused } from "../../../src/webhooks/url-policy";

const SCHEDULE = { retryBaseMs: 1_000, maxRetryMs: 600_000 };

test("retries wait 1 s doubling per attempt, capped at 10 minutes, less up to a quarter of jitter", () => {
  expect([1, 2, 3, 4, 5, 10, 11, 50].map((attempt) => retryDelay(attempt, SCHEDULE, 0))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 512_000, 600_000, 600_000]);
  expect(retryDelay(1, SCHEDULE, 0.999)).toBe(750);
  expect(retryDelay(11, SCHEDULE, 0.5)).toBe(525_000);
  for (let attempt = 1; attempt < 30; attempt++) {
    const delay = retryDelay(attempt, SCHEDULE, Math.random());
    expect(delay).toBeLessThanOrEqual(600_000);
    expect(delay).toBeGreaterThanOrEqual(750);
  }
});

test("only public unicast addresses pass; the ranges of http.md and the other special ones do not", () => {
  const refused = [
    "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1", "127.0.0.1", "127.255.0.9", "169.254.169.254",
    "100.64.0.1", "100.127.255.255", "0.0.0.0", "255.255.255.255", "224.0.0.1", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1",
    "febf::1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "ff02::1", "::127.0.0.1", "::7f00:1", "::808:808",
  ];
  for (const address of refused) expect({ address, range: nonPublicRange(address) }).not.toEqual({ address, range: null });
  for (const address of ["8.8.8.8", "93.184.216.34", "172.32.0.1", "100.128.0.1", "169.255.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
    expect({ address, range: nonPublicRange(address) }).toEqual({ address, range: null });
  }
});

test("the form of a URL is checked before any lookup", async () => {
  let lookups = 0;
  const strict = new UrlPolicy(false, async () => {
    lookups++;
    return [{ address: "93.184.216.34", family: 4 }];
  });
  await expect(strict.check("http://example.com/")).rejects.toBeInstanceOf(UrlRefused);
  await expect(strict.check("https://user:pw@example.com/")).rejects.toThrow(/credentials/);
  expect(lookups).toBe(0);
  await expect(strict.check("https://example.com/hook")).resolves.toBeInstanceOf(URL);
  expect(lookups).toBe(1);
  const open = new UrlPolicy(true, async () => {
    throw new Error("no lookups when private addresses are allowed");
  });
  await expect(open.check("http://10.0.0.1/hook")).resolves.toBeInstanceOf(URL);
});
