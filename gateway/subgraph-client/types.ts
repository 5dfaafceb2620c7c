// The shapes of the gateway's subgraph client, apart from its code so that the features that hook
// into it (gateway/feature.ts) and the subscription planner use them without importing it.
import type { GraphQLDataSource, RemoteGraphQLDataSource } from '@apollo/gateway';

/** The request Apollo Gateway hands its fetcher. */
export type SubgraphInit = Parameters<RemoteGraphQLDataSource['fetcher']>[1];

/** What a subgraph answered, kept as bytes so that every caller sharing it reads its own copy. */
export interface SubgraphAnswer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Buffer<ArrayBuffer> | null;
}

/** One HTTP call to a subgraph. */
export type SubgraphCall = (url: string, init?: SubgraphInit) => Promise<SubgraphAnswer>;

/** Builds the data source for a subgraph (headers forwarded, deadline, failures answered as SERVICE_UNAVAILABLE). */
export type BuildService = (definition: { name: string; url: string }) => GraphQLDataSource;
/** Where a subgraph is reached: its routing URL in the supergraph, unless configured otherwise. */
export type Route = (name: string, url: string | undefined) => string;

/** How this gateway calls its subgraphs: queries, and the completion of subscription events alike. */
export interface SubgraphClient {
  buildService: BuildService;
  route: Route;
}
