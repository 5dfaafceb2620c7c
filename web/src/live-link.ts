// Subscriptions over graphql-ws on the gateway's /graphql (same origin). A WebSocket carries no
// Authorization header: the token goes in connection_init, once per connection. So logging in or
// out replaces the connection: the old one closes (its subscriptions complete, and the pages that
// watch resubscribe as the new viewer) and the next subscription connects with the new token.
import { ApolloLink } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import { session } from './session.js';

function socketUrl(): string {
  const url = new URL('graphql', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function connect(token: string | undefined): GraphQLWsLink {
  // Lazy (the default): the socket opens with the first subscription and closes after the last.
  return new GraphQLWsLink(createClient({ url: socketUrl(), connectionParams: token ? { authorization: `Bearer ${token}` } : {} }));
}

/** A terminating link for subscription operations; the manifest's text and id arrive from the links before it. */
export function createLiveLink(): ApolloLink {
  let token = session.get()?.token;
  let ws = connect(token);
  session.subscribe(() => {
    const next = session.get()?.token;
    if (next === token) return;
    token = next;
    void ws.client.dispose();
    ws = connect(token);
  });
  return new ApolloLink((operation) => ws.request(operation));
}
