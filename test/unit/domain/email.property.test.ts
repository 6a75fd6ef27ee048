import fc from "fast-check";
import isEmail from "validator/lib/isEmail";
import { cleanEmail } from "../../../src/domain/contacts";

/** What cleanEmail accepted before it checked the length limits itself: validator's isEmail with them. */
function validatorAccepts(email: string): boolean {
  return isEmail(email, { allow_utf8_local_part: true, require_tld: true, allow_ip_domain: false });
}

function accepts(email: string): boolean {
  try {
    return cleanEmail(email) === email;
  } catch {
    return false;
  }
}

/** Mostly `common`, sometimes one of `rare`: valid often enough to reach the limits. */
const mostly = (common: string, rare: string[]) => fc.oneof({ weight: 6, arbitrary: fc.constant(common) }, { weight: 1, arbitrary: fc.constantFrom(...rare) });
/** A string of `char`s whose length is small or near `limit`. */
const near = (char: fc.Arbitrary<string>, limit: number) =>
  fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: limit - 3, max: limit + 2 }), fc.integer({ min: Math.floor(limit / 3) - 2, max: Math.ceil(limit / 2) + 2 })).chain((length) =>
    fc.array(char, { minLength: length, maxLength: length }).map((chars) => chars.join("")),
  );

// Characters that count differently in characters and in UTF-8 bytes, and some isEmail refuses.
const local = near(mostly("a", ["Z", "0", ".", "+", "é", "日", "😀", '"', "@"]), 64);
const label = near(mostly("a", ["0", "-", "é", "日", "ｘ"]), 63);
const email = fc
  .record({
    local,
    labels: fc.array(label, { minLength: 1, maxLength: 5 }),
    tld: fc.constantFrom("com", "no", "xn--p1ai", "日本", "c", "123", ""),
  })
  .map(({ local, labels, tld }) => `${local}@${[...labels, tld].join(".")}`);

describe("email addresses", () => {
  it("are accepted exactly when validator's isEmail, with its length limits, accepts them", () => {
    fc.assert(
      fc.property(email, (address) => {
        expect(accepts(address)).toBe(validatorAccepts(address));
      }),
      { numRuns: 20_000 },
    );
  });

  it("meet each length limit at its edge", () => {
    const domain = (labelLength: number) => `${"a".repeat(labelLength)}.com`;
    const cases: [string, boolean][] = [
      [`${"a".repeat(64)}@example.com`, true],
      [`${"a".repeat(65)}@example.com`, false],
      [`${"é".repeat(32)}@example.com`, true], // 64 bytes
      [`${"é".repeat(32)}a@example.com`, false], // 65 bytes in 33 characters
      [`a@${domain(63)}`, true],
      [`a@${domain(64)}`, false],
      [`a@${Array.from({ length: 4 }, () => "b".repeat(60)).join(".")}.com`, true], // 248 characters of domain
      [`${"a".repeat(10)}@${Array.from({ length: 4 }, () => "b".repeat(60)).join(".")}.com`, false], // 259 characters in all
      [`a@${Array.from({ length: 4 }, () => "日".repeat(30)).join(".")}.com`, false], // 367 bytes of domain in 127 characters
      [`a@${Array.from({ length: 3 }, () => "日".repeat(21)).join(".")}.${"a".repeat(58)}.com`, true], // 254 bytes of domain
      [`a@${Array.from({ length: 3 }, () => "日".repeat(21)).join(".")}.${"a".repeat(59)}.com`, false], // 255 bytes in 129 characters
    ];
    for (const [address, valid] of cases) {
      expect([address, accepts(address)]).toEqual([address, valid]);
      expect([address, validatorAccepts(address)]).toEqual([address, valid]);
    }
  });
});
