/**
 * Where webhooks may send: `https://` to public addresses only (http.md). A name is resolved by
 * the policy itself and every address it resolves to must be public; the connection is then made
 * to exactly the addresses checked (`lookup`, given to the HTTP client's connector), so a DNS
 * answer that changes between the check and the connection cannot slip through. With
 * WEBHOOK_ALLOW_PRIVATE_URLS=true any address and `http://` are allowed.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from "node:dns";
import ipaddr from "ipaddr.js";

/** Resolves a host name to every address it has (injectable, so tests control DNS). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** A URL the policy refuses, with a message a person understands. */
export class UrlRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UrlRefused";
  }
}

/** The longest URL accepted. */
export const MAX_URL_LENGTH = 2_048;

/**
 * Why an address is not public (loopback, private, link-local — which holds the cloud metadata
 * address 169.254.169.254 —, carrier-grade NAT, unique-local, multicast, reserved …), or null
 * when it is an ordinary public unicast address. IPv4 addresses mapped into IPv6 are judged as
 * the IPv4 address they carry.
 */
export function nonPublicRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return "not an IP address";
  const parsed = ipaddr.process(address);
  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291): ipaddr.js calls it unicast.
  if (parsed.kind() === "ipv6") {
    const parts = (parsed as ipaddr.IPv6).parts;
    if (parts.slice(0, 6).every((part) => part === 0) && parts[6] !== 0) return "ipv4Compatible";
  }
  const range = parsed.range();
  return range === "unicast" ? null : range;
}

/** Whether a URL host is an IP literal (IPv6 literals come bracketed from URL.hostname). */
function ipLiteral(hostname: string): string | null {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) && (bare.includes(":") || ipaddr.IPv4.isValidFourPartDecimal(bare)) ? bare : null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export class UrlPolicy {
  constructor(
    readonly allowPrivate: boolean,
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /** Parses and checks a URL's form (no DNS): the scheme, no credentials, a host. */
  parse(raw: string): URL {
    if (typeof raw !== "string" || raw.length === 0) throw new UrlRefused("the URL is empty");
    if (raw.length > MAX_URL_LENGTH) throw new UrlRefused(`the URL is longer than ${MAX_URL_LENGTH} characters`);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UrlRefused(`${JSON.stringify(raw.length > 100 ? `${raw.slice(0, 100)}…` : raw)} is not a URL`);
    }
    const schemes = this.allowPrivate ? ["https:", "http:"] : ["https:"];
    if (!schemes.includes(url.protocol)) {
      throw new UrlRefused(
        this.allowPrivate ? "the URL must start with https:// or http://" : "the URL must start with https:// (http:// is allowed only with WEBHOOK_ALLOW_PRIVATE_URLS=true)",
      );
    }
    if (url.username !== "" || url.password !== "") throw new UrlRefused("the URL must not contain credentials; receivers authenticate requests by their Segments-Signature");
    if (url.hostname === "") throw new UrlRefused("the URL has no host");
    return url;
  }

  /**
   * The addresses a URL's host may be reached at, every one of them checked: an IP literal is
   * judged as it is, a name is resolved and all its addresses must be public.
   */
  async addresses(url: URL): Promise<LookupAddress[]> {
    const literal = ipLiteral(url.hostname);
    if (literal !== null) {
      this.assertPublic(url.hostname, literal);
      return [{ address: literal, family: literal.includes(":") ? 6 : 4 }];
    }
    return this.resolveChecked(url.hostname);
  }

  /**
   * Checks a URL whose host is an IP literal (connections to one do not call `lookup`); a name is
   * left to `lookup`, which resolves and checks it as the connection is made.
   */
  checkLiteral(url: URL): void {
    const literal = ipLiteral(url.hostname);
    if (literal !== null) this.assertPublic(url.hostname, literal);
  }

  /** Parses the URL and checks where it leads; throws UrlRefused with the reason. */
  async check(raw: string): Promise<URL> {
    const url = this.parse(raw);
    if (!this.allowPrivate) await this.addresses(url);
    return url;
  }

  private async resolveChecked(hostname: string): Promise<LookupAddress[]> {
    let found: LookupAddress[];
    try {
      found = await this.resolve(hostname);
    } catch (error) {
      throw new UrlRefused(`the host ${hostname} could not be resolved (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (found.length === 0) throw new UrlRefused(`the host ${hostname} has no address`);
    if (!this.allowPrivate) for (const { address } of found) this.assertPublic(hostname, address);
    return found;
  }

  private assertPublic(hostname: string, address: string): void {
    const range = nonPublicRange(address);
    if (range === null) return;
    const literal = hostname === address || hostname === `[${address}]`;
    const what = literal ? `${address} is not a public address` : `${hostname} resolves to ${address}, which is not a public address`;
    throw new UrlRefused(`${what} (${range}); webhooks may only reach public addresses`);
  }

  /**
   * A `lookup` for net/tls connections: resolves with the policy and hands the connection only
   * the addresses it checked. Connections to IP literals do not call it: `addresses` checks those.
   */
  readonly lookup = (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    this.resolveChecked(hostname).then(
      (found) => {
        if ((options as LookupAllOptions).all) return callback(null, found);
        const family = (options as LookupOneOptions).family;
        const first = found.find((entry) => !family || entry.family === family) ?? found[0]!;
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(Object.assign(error, { code: "EWEBHOOKURL" }), []),
    );
  };
}
