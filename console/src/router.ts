/** Hash routes: the service serves one page at `/`, and every view is an address in its fragment. */
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "lists" }
  | { name: "list"; id: string }
  | { name: "contacts"; listId: string; q: string }
  | { name: "newSegment"; listId: string }
  | { name: "segment"; id: string }
  | { name: "contact"; id: string }
  | { name: "notFound" };

const part = encodeURIComponent;

export const href = {
  lists: () => "#/",
  list: (id: string) => `#/lists/${part(id)}`,
  contacts: (listId: string, q = "") => `#/lists/${part(listId)}/contacts${q ? `?q=${part(q)}` : ""}`,
  newSegment: (listId: string) => `#/lists/${part(listId)}/new-segment`,
  segment: (id: string) => `#/segments/${part(id)}`,
  contact: (id: string) => `#/contacts/${part(id)}`,
};

export function parseRoute(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts.length === 0) return { name: "lists" };
  if (parts[0] === "lists" && parts[1]) {
    if (parts.length === 2) return { name: "list", id: parts[1] };
    if (parts[2] === "contacts" && parts.length === 3) return { name: "contacts", listId: parts[1], q: params.get("q") ?? "" };
    if (parts[2] === "new-segment" && parts.length === 3) return { name: "newSegment", listId: parts[1] };
  }
  if (parts[0] === "segments" && parts[1] && parts.length === 2) return { name: "segment", id: parts[1] };
  if (parts[0] === "contacts" && parts[1] && parts.length === 2) return { name: "contact", id: parts[1] };
  return { name: "notFound" };
}

/** Goes to a route; `replace` takes the place of the current history entry (a search as it is typed). */
export function navigate(to: string, { replace = false } = {}): void {
  if (replace) location.replace(to);
  else location.hash = to.replace(/^#/, "");
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
