// Composes the supergraph from the subgraphs that supergraph.yaml lists (rover's format), with
// Apollo's composition library, as `rover supergraph compose` would.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { composeServices, type CompositionResult } from '@apollo/composition';
import { parse as parseGraphQL, Source, type DocumentNode } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { ROOT } from '../lib/paths.js';

export interface SubgraphSource {
  name: string;
  url: string;
  file: string;
  sdl: string;
  /** Parsed with the subgraph's name as the source name, so errors can say where they are. */
  document: DocumentNode;
}

interface SupergraphConfig {
  subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
}

export function readSubgraphs(root = ROOT): SubgraphSource[] {
  const config = parseYaml(readFileSync(path.join(root, 'supergraph.yaml'), 'utf8')) as SupergraphConfig;
  return Object.entries(config.subgraphs).map(([name, s]) => {
    const file = path.join(root, s.schema.file);
    const sdl = readFileSync(file, 'utf8');
    return { name, url: s.routing_url, file, sdl, document: parseGraphQL(new Source(sdl, name)) };
  });
}

export function compose(subgraphs: SubgraphSource[]): CompositionResult {
  return composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: s.document })));
}
