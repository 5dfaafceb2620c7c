// The persisted-operation manifest (Apollo's format, read by @apollo/persisted-query-lists and by
// the gateway's trusted-documents policy), built from operations/<client>/*.graphql. Each body is
// the operation as Apollo Client sends it: `__typename` added to every selection set (Apollo
// Client's addTypenameToDocument, so the cache normalises), the fragments it uses appended, top-
// level definitions sorted as Apollo's manifest generator and verification link sort them. The id
// is the SHA-256 of the body, so a client's APQ hash and the manifest id are the same string.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { addTypenameToDocument, print } from '@apollo/client/utilities';
import { sortTopLevelDefinitions } from '@apollo/persisted-query-lists';
import { Kind, parse, Source, visit, type DefinitionNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { operationId, type ManifestOperation, type PersistedQueryManifest } from '../../lib/persisted-manifest.js';

// The format lives on the runtime side (the gateway reads the manifest); re-exported for the tooling.
export { MANIFEST_FILE, operationId, type ManifestOperation, type PersistedQueryManifest } from '../../lib/persisted-manifest.js';

/** Every definition in operations/<client>/*.graphql, each parsed with its file as the source name. */
function readDefinitions(root: string): DefinitionNode[] {
  const dir = path.join(root, 'operations');
  const clients = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return clients.flatMap((client) =>
    readdirSync(path.join(dir, client))
      .filter((f) => f.endsWith('.graphql'))
      .sort()
      .flatMap((file) => parse(new Source(readFileSync(path.join(dir, client, file), 'utf8'), `operations/${client}/${file}`)).definitions),
  );
}

/** The fragments `operation` spreads, directly or through other fragments. */
function fragmentsOf(operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>): FragmentDefinitionNode[] {
  const used = new Map<string, FragmentDefinitionNode>();
  const walk = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        if (used.has(name)) return;
        const fragment = fragments.get(name);
        if (!fragment) throw new Error(`operation ${operation.name?.value} uses fragment ${name}, which no file under operations/ defines`);
        used.set(name, fragment);
        walk(fragment);
      },
    });
  walk(operation);
  return [...used.values()];
}

/** The manifest the operations under `root`/operations produce; throws naming the operation when one cannot be persisted. */
export function buildManifest(root: string): PersistedQueryManifest {
  const definitions = readDefinitions(root);
  const fragments = new Map(definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const operations: ManifestOperation[] = [];
  for (const definition of definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const name = definition.name?.value;
    // Clients look an operation's id up by its name (generatePersistedQueryIdsFromManifest).
    if (!name) throw new Error(`an operation in ${definition.loc?.source.name ?? 'operations/'} has no name: persisted operations are looked up by name`);
    if (operations.some((o) => o.name === name)) throw new Error(`two operations are named ${name}: persisted operations are looked up by name`);
    const document = { kind: Kind.DOCUMENT, definitions: [definition, ...fragmentsOf(definition, fragments)] } as const;
    const body = print(sortTopLevelDefinitions(addTypenameToDocument(document)));
    operations.push({ id: operationId(body), name, type: definition.operation, body });
  }
  operations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { format: 'apollo-persisted-query-manifest', version: 1, operations };
}

/** The manifest as the committed file holds it. */
export const manifestText = (manifest: PersistedQueryManifest) => `${JSON.stringify(manifest, null, 2)}\n`;
