/** @jsxImportSource react */
/**
 * The GraphQL IDE at /graphql: GraphiQL, bundled and served by the service (no CDN). Queries and
 * mutations go over HTTP with the headers from its headers editor; subscriptions go over
 * graphql-ws, with the same headers as connectionParams (so `authorization` carries the key both
 * ways). The console's key, when this tab has one, fills the headers editor.
 */
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import { createRoot } from "react-dom/client";
import "./ide.css";

const url = new URL("/graphql", location.href).href;
const key = sessionStorage.getItem("segments.apiKey");

const fetcher = createGraphiQLFetcher({ url, subscriptionUrl: url.replace(/^http/, "ws") });

const example = `# Lists and their segments. Once API keys exist, put yours
# in Headers below: { "authorization": "Bearer <key>" }
# Subscriptions run over graphql-ws with the same headers:
#   subscription Changes {
#     segmentMembershipChanged(listId: "…") { change contact { email } }
#   }
query Lists {
  contactLists(first: 10) {
    nodes {
      id
      name
      contactCount
      segments { id name type memberCount }
    }
  }
}
`;

createRoot(document.getElementById("root")!).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={example}
    defaultHeaders={key ? JSON.stringify({ authorization: `Bearer ${key}` }, null, 2) : undefined}
    isHeadersEditorEnabled
    shouldPersistHeaders={false}
    defaultEditorToolsVisibility="headers"
  />,
);
