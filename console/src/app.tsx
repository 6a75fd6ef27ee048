/** The console's shell: sign-in, the header, and the page of the current route. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, request, session } from "./api/client";
import { toApiError } from "./api/hooks";
import { SessionProbe } from "./api/operations";
import { ContactPage } from "./pages/contact";
import { ContactsPage } from "./pages/contacts";
import { ListPage } from "./pages/list";
import { ListsPage } from "./pages/lists";
import { NewSegmentPage } from "./pages/new-segment";
import { SegmentPage } from "./pages/segment";
import { href, type Route, useRoute } from "./router";
import { ErrorNotice, Loading } from "./ui/widgets";

type Phase = { name: "checking" } | { name: "signIn"; message?: string } | { name: "in"; open: boolean } | { name: "down"; error: ApiError };

const ideServed = document.documentElement.dataset.ide === "on";

export function App() {
  const [phase, setPhase] = useState<Phase>({ name: "checking" });
  const route = useRoute();
  const check = async () => {
    try {
      await request(SessionProbe);
      setPhase({ name: "in", open: session.key === null });
    } catch (error) {
      const failure = toApiError(error);
      // A 401 has already shown the sign-in (session.onRefused).
      if (failure.status !== 401) setPhase({ name: "down", error: failure });
    }
  };
  useEffect(() => {
    session.onRefused = (message) => {
      if (session.key === null) {
        setPhase((current) => (current.name === "signIn" && current.message ? current : { name: "signIn" }));
        return;
      }
      // A refused key is dropped; a service that runs open takes the tab straight in without one.
      session.key = null;
      setPhase({ name: "signIn", message });
      void check();
    };
    void check();
  }, []);

  const signOut = () => {
    session.key = null;
    setPhase({ name: "signIn" });
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href.lists()}>
          <span class="brand-mark" aria-hidden="true" />
          segments
        </a>
        {phase.name === "in" && (
          <nav aria-label="Main">
            <a href={href.lists()}>Lists</a>
            {ideServed && <a href="/graphql">GraphQL IDE</a>}
          </nav>
        )}
        <div class="topbar-end">
          {phase.name === "in" && phase.open && <span class="pill pill-warning" title="No API key exists: anyone who can reach the service can use it">Open mode</span>}
          {phase.name === "in" && !phase.open && (
            <button type="button" class="button ghost" onClick={signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {phase.name === "checking" && <Loading what="the console" />}
        {phase.name === "down" && <ErrorNotice title="The service did not answer as expected" error={phase.error} />}
        {phase.name === "signIn" && (
          <SignIn
            message={phase.message}
            onKey={async (key) => {
              session.key = key;
              await check();
            }}
          />
        )}
        {phase.name === "in" && <Page route={route} />}
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case "lists":
      return <ListsPage />;
    case "list":
      return <ListPage key={route.id} id={route.id} />;
    case "contacts":
      return <ContactsPage key={route.listId} listId={route.listId} q={route.q} />;
    case "newSegment":
      return <NewSegmentPage key={route.listId} listId={route.listId} />;
    case "segment":
      return <SegmentPage key={route.id} id={route.id} />;
    case "contact":
      return <ContactPage key={route.id} id={route.id} />;
    case "notFound":
      return (
        <div class="page">
          <h1>Nothing here</h1>
          <p>
            <a href={href.lists()}>Back to the lists</a>
          </p>
        </div>
      );
  }
}

function SignIn({ message, onKey }: { message?: string; onKey(key: string): Promise<void> }) {
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <div class="sign-in">
      <form
        class="card"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          await onKey(key.trim());
          setBusy(false);
        }}
      >
        <h1>Sign in</h1>
        <p class="muted">
          This service needs an API key. Create one with <code>npm run keys -- create --workspace &lt;name&gt;</code>. The key stays in this tab only.
        </p>
        {message && <ErrorNotice error={message} />}
        <label class="field">
          <span>API key</span>
          <input type="password" autoComplete="off" required value={key} onInput={(event) => setKey(event.currentTarget.value)} />
        </label>
        <button class="button primary" type="submit" disabled={busy || key.trim() === ""}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
