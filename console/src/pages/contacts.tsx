/** Searching a list's contacts (`contacts(where:)`): by email or name, a page at a time. */
import { useEffect, useState } from "preact/hooks";
import { useQuery } from "../api/hooks";
import { ContactsQuery } from "../api/operations";
import { formatCount, formatDateTime } from "../format";
import { href, navigate } from "../router";
import { Card, ErrorNotice, Loading } from "../ui/widgets";

/** Contacts whose email, first or last name contains the text (the service compares without case). */
function searchCondition(q: string) {
  const text = q.trim();
  if (!text) return null;
  return { or: ["email", "firstName", "lastName"].map((field) => ({ field, operator: "CONTAINS" as const, value: text })) };
}

export function ContactsPage({ listId, q }: { listId: string; q: string }) {
  const [text, setText] = useState(q);
  const [pages, setPages] = useState<(string | null)[]>([null]);
  const after = pages[pages.length - 1] ?? null;
  const result = useQuery(ContactsQuery, { listId, where: searchCondition(q), after });
  useEffect(() => setPages([null]), [q]);
  // The address follows the search box a moment after typing stops.
  useEffect(() => {
    if (text === q) return;
    const timer = setTimeout(() => navigate(href.contacts(listId, text), { replace: true }), 300);
    return () => clearTimeout(timer);
  }, [text]);
  const list = result.data?.contactList;
  const contacts = list?.contacts;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.lists()}>Lists</a> <span aria-hidden="true">/</span> {list ? <a href={href.list(list.id)}>{list.name}</a> : "…"} <span aria-hidden="true">/</span>{" "}
        <span aria-current="page">Contacts</span>
      </nav>
      <div class="page-header">
        <h1>Contacts</h1>
      </div>
      <Card>
        <form
          class="search"
          role="search"
          onSubmit={(event) => {
            event.preventDefault();
            navigate(href.contacts(listId, text));
          }}
        >
          <label class="field grow">
            <span>Search by email or name</span>
            <input type="search" value={text} onInput={(event) => setText(event.currentTarget.value)} placeholder="kari, @example.no" />
          </label>
        </form>
        {result.error && <ErrorNotice error={result.error} />}
        {!result.data && !result.error && <Loading what="contacts" />}
        {result.data && !list && <ErrorNotice error="This list does not exist (or belongs to another workspace)." />}
        {contacts && (
          <>
            <p class="muted small" role="status">
              {formatCount(contacts.totalCount)} {q.trim() ? "matching" : ""} contact{contacts.totalCount === 1 ? "" : "s"}
            </p>
            {contacts.nodes.length > 0 && (
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Name</th>
                    <th scope="col">Place</th>
                    <th scope="col">Tags</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {contacts.nodes.map((contact) => (
                    <tr key={contact.id}>
                      <td>
                        <a href={href.contact(contact.id)}>{contact.email}</a>
                      </td>
                      <td>{[contact.firstName, contact.lastName].filter(Boolean).join(" ")}</td>
                      <td class="muted">{[contact.city, contact.country].filter(Boolean).join(", ")}</td>
                      <td>
                        {contact.tags.map((tag) => (
                          <span class="tag" key={tag}>
                            {tag}
                          </span>
                        ))}
                      </td>
                      <td class="muted">{formatDateTime(contact.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <div class="pager">
              {pages.length > 1 && (
                <button type="button" class="button" onClick={() => setPages(pages.slice(0, -1))}>
                  Previous
                </button>
              )}
              {contacts.pageInfo.hasNextPage && (
                <button type="button" class="button" onClick={() => setPages([...pages, contacts.pageInfo.endCursor ?? null])}>
                  Next
                </button>
              )}
            </div>
          </>
        )}
      </Card>
    </div>
  );
}
