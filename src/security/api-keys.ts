/**
 * API keys: random secrets shown once, stored only as SHA-256 hashes (a fast hash suffices for
 * 256-bit random keys), each bound to one workspace.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ApiKeyRecord, Store } from "../stores/port";

export const OPEN_WORKSPACE = "default";

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `sk_${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, 11), hash: hashApiKey(key) };
}

export type Principal = { workspaceId: string; keyId: string | null };

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; message: string };

/** "Bearer <key>" (HTTP header or graphql-ws connectionParams.authorization), or the bare key. */
function tokenOf(authorization: unknown): string | null {
  if (typeof authorization !== "string") return null;
  const match = /^\s*(?:bearer\s+)?(\S+)\s*$/i.exec(authorization);
  return match ? match[1]! : null;
}

export class Authenticator {
  /** Keys are never deleted (revoked ones stay): once one is seen, there always is one. */
  private keySeen = false;

  constructor(
    private readonly store: Store,
    /** Whether requests without a key are served while no key exists (loopback only). */
    private readonly openModeAllowed: boolean,
  ) {}

  /**
   * Whether any key was ever created (revoked ones count: revoking the last key must not reopen
   * the API). Read on every request until one exists, so that the first key, made by any
   * process, closes the open mode at once.
   */
  private async keysExist(): Promise<boolean> {
    if (!this.keySeen) this.keySeen = (await this.store.countApiKeys()) > 0;
    return this.keySeen;
  }

  /** True while the service runs open (no key was ever created and the bind address is loopback). */
  async isOpen(): Promise<boolean> {
    return this.openModeAllowed && !(await this.keysExist());
  }

  async authenticate(authorization: unknown): Promise<AuthOutcome> {
    const token = tokenOf(authorization);
    if (token === null) {
      if (await this.isOpen()) return { ok: true, principal: { workspaceId: OPEN_WORKSPACE, keyId: null } };
      return { ok: false, message: "an API key is required: send Authorization: Bearer <key>" };
    }
    const key: ApiKeyRecord | null = await this.store.findApiKey(hashApiKey(token));
    if (!key || key.revokedAt !== null) return { ok: false, message: "this API key is not valid or has been revoked" };
    return { ok: true, principal: { workspaceId: key.workspaceId, keyId: key.id } };
  }
}
