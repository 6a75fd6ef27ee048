/**
 * Subscribers over graphql-ws: the real graphql-ws client (one subscriber, as an application
 * would use it), and a lean client speaking the graphql-transport-ws protocol directly for
 * thousands of sockets (it timestamps a message on arrival, before parsing anything).
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";

export const LIST_EVENTS = `subscription($listId: ID!, $after: String) { segmentMembershipChanged(listId: $listId, after: $after) { cursor change reason contactId segmentId memberCount } }`;

export interface MembershipEventData {
  cursor: string;
  change: "ENTERED" | "LEFT";
  reason: string;
  contactId: string;
  segmentId: string;
  memberCount: number;
}

export const SEGMENT_EVENTS = `subscription($segmentId: ID!, $after: String) { segmentMembershipChanged(segmentId: $segmentId, after: $after) { cursor change reason contactId segmentId memberCount } }`;

/**
 * One graphql-ws client subscribed to a list's events after `after` (a cursor read before, so
 * no event is missed while the subscription starts); `onEvent` gets the arrival time first.
 */
export function subscribeList(wsUrl: string, listId: string, after: string | null, onEvent: (arrivedAt: number, event: MembershipEventData) => void) {
  return subscribeEvents(wsUrl, LIST_EVENTS, { listId, after }, onEvent);
}

/** The same for one segment's events. */
export function subscribeSegment(wsUrl: string, segmentId: string, after: string | null, onEvent: (arrivedAt: number, event: MembershipEventData) => void) {
  return subscribeEvents(wsUrl, SEGMENT_EVENTS, { segmentId, after }, onEvent);
}

function subscribeEvents(wsUrl: string, query: string, variables: Record<string, unknown>, onEvent: (arrivedAt: number, event: MembershipEventData) => void) {
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  const errors: unknown[] = [];
  const stop = client.subscribe<{ segmentMembershipChanged: MembershipEventData }>(
    { query, variables },
    {
      next: (result) => {
        const arrivedAt = performance.now();
        if (result.errors) errors.push(...result.errors);
        if (result.data) onEvent(arrivedAt, result.data.segmentMembershipChanged);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return {
    errors,
    async close() {
      stop();
      await client.dispose();
    },
  };
}

/** A bare graphql-transport-ws subscriber: connection_init, one subscribe, then messages. */
export class RawSubscriber {
  readonly socket: WebSocket;
  /** Resolves when the server acknowledged the connection and the subscribe was sent. */
  readonly ready: Promise<void>;
  onMessage: ((arrivedAt: number, data: Buffer) => void) | null = null;
  errors = 0;
  closed = false;

  constructor(url: string, query: string, variables: Record<string, unknown>) {
    this.socket = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("open", () => this.socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
      this.socket.on("message", (data: Buffer) => {
        const arrivedAt = performance.now();
        // Cheap look at the type before any parse: events are by far the most frequent message.
        if (data.includes('"type":"next"')) {
          this.onMessage?.(arrivedAt, data);
          return;
        }
        const message = JSON.parse(data.toString());
        if (message.type === "connection_ack") {
          this.socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
          resolve();
        } else if (message.type === "ping") {
          this.socket.send(JSON.stringify({ type: "pong" }));
        } else if (message.type === "error") {
          this.errors++;
        }
      });
      this.socket.once("error", (error) => {
        this.errors++;
        reject(error);
      });
      this.socket.once("close", (code, reason) => {
        this.closed = true;
        reject(new Error(`socket closed (${code} ${reason.toString()})`));
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.close(1000);
    });
  }
}
