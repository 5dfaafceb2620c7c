// Composes the supergraph from the four subgraph schema files, as `rover supergraph compose` would.
import { readFileSync } from 'node:fs';
import { composeServices, type CompositionResult } from '@apollo/composition';
import { parse } from 'graphql';
import { subgraphSchemaPath } from './paths.js';
import { DEFAULT_PORTS, SERVICE_NAMES } from './services.js';

/** Routing URLs written into supergraph.graphql; deployments override them (USERS_URL, ...). */
export const routingUrl = (name: (typeof SERVICE_NAMES)[number]) => `http://localhost:${DEFAULT_PORTS[name]}/graphql`;

export function composeFromFiles(readSchema: (path: string) => string = (p) => readFileSync(p, 'utf8')): CompositionResult {
  return composeServices(
    SERVICE_NAMES.map((name) => ({
      name,
      url: routingUrl(name),
      typeDefs: parse(readSchema(subgraphSchemaPath(name))),
    })),
  );
}
