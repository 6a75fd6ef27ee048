/**
 * Relay global ids: base64url("<Type>:<store id>"). Opaque to clients, unique across types,
 * and checked on the way in so an id of another type reads as unknown.
 */
export type NodeType = "ContactList" | "Contact" | "Segment" | "Webhook" | "ImportJob";

export function toGlobalId(type: NodeType, localId: string): string {
  return Buffer.from(`${type}:${localId}`, "utf8").toString("base64url");
}

const LOCAL_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The store id inside a global id of the expected type, or null for anything else. */
export function fromGlobalId(id: string, type: NodeType): string | null {
  const parsed = parseGlobalId(id);
  return parsed && parsed.type === type ? parsed.localId : null;
}

export function parseGlobalId(id: string): { type: NodeType; localId: string } | null {
  if (typeof id !== "string" || id.length === 0 || id.length > 128 || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  const text = Buffer.from(id, "base64url").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  const type = text.slice(0, colon);
  const localId = text.slice(colon + 1);
  if ((type !== "ContactList" && type !== "Contact" && type !== "Segment" && type !== "Webhook" && type !== "ImportJob") || !LOCAL_ID.test(localId)) return null;
  // Only the canonical encoding names a node, so one node has exactly one id.
  if (toGlobalId(type, localId) !== id) return null;
  return { type, localId };
}
