// The shop's Apollo Client: the gateway's /graphql on this origin, the session's token as
// Authorization, and an expired or forged token ends the session instead of failing every page.
// Operations go by their id in the persisted-operation manifest (operations/persisted-query-
// manifest.json), never as text: a production gateway runs only the manifest's operations, and
// queries go as GET, so the gateway's Cache-Control lets the browser and a CDN keep public reads.
// Subscriptions go over graphql-ws (live-link.ts), with the manifest's text and its id.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { ErrorLink } from '@apollo/client/link/error';
import { SetContextLink } from '@apollo/client/link/context';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { getMainDefinition } from '@apollo/client/utilities';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import manifest from '../../operations/persisted-query-manifest.json';
import { createLiveLink } from './live-link.js';
import { session } from './session.js';

export function createClient(): ApolloClient {
  const auth = new SetContextLink((prev) => {
    const token = session.get()?.token;
    return token ? { headers: { ...prev.headers, authorization: `Bearer ${token}` } } : {};
  });
  const expired = new ErrorLink(({ error }) => {
    if (CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') && session.get()) session.clear();
  });
  const persisted = new PersistedQueryLink({
    ...generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }),
    useGETForHashedQueries: true,
  });
  return new ApolloClient({
    link: ApolloLink.from([
      expired,
      auth,
      persisted,
      ApolloLink.split(isSubscription, createLiveLink(), new HttpLink({ uri: new URL('graphql', document.baseURI).pathname })),
    ]),
    // Each page of a list is its own query (its arguments key it in the cache), not merged into one list.
    cache: new InMemoryCache(),
    // The product page defers its slow parts: the gateway answers multipart/mixed (deferSpec=20220824).
    incrementalHandler: new Defer20220824Handler(),
  });
}

function isSubscription({ query }: ApolloLink.Operation): boolean {
  const definition = getMainDefinition(query);
  return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
}
