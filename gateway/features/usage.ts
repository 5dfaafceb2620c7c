// Usage by client: which client (Apollo's `apollographql-client-name` / `-version` headers) ran
// which operation and selected which schema fields (Type.field, found by walking the validated
// document with TypeInfo against the API schema), and what its operations cost (estimated and
// actual, recorded by the cost feature, gateway/features/cost.ts). Counted in metrics and kept as a report since
// the gateway started, served to administrators on GET /usage and merged into a file by
// `npm run usage:report`, which `npm run schema:check -- --usage FILE` reads to name the clients
// a breaking change would hurt (tools/schema-check/usage.ts). A gateway feature: useUsage.
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Tokens } from '../../lib/security/auth.js';
import { BoundedLabel, VERSION_LIKE } from '../../lib/telemetry/metrics.js';
import { addCost, operationCost, type ClientCost, type UsageReport } from '../../lib/usage-report.js';
import type { GatewayContext } from '../context.js';
import type { GatewayFeature } from '../feature.js';
import { gatewayMetrics, type GatewayMetrics } from '../metrics.js';

export const CLIENT_NAME_HEADER = 'apollographql-client-name';
export const CLIENT_VERSION_HEADER = 'apollographql-client-version';

/** The schema coordinates (Type.field) an operation selects, each once; introspection and __typename aside. */
export function fieldsOf(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): string[] {
  const fields = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  // Fragments are walked too: a client that selects a field through a fragment uses it.
  const selected = document.definitions.filter((d) => d.kind !== 'OperationDefinition' || !operationName || d.name?.value === operationName);
  visit(
    { ...document, definitions: selected },
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent || node.name.value.startsWith('__')) return;
        fields.add(`${parent.name}.${node.name.value}`);
      },
    }),
  );
  return [...fields].sort();
}

interface ClientUsage {
  name: string;
  version: string;
  operations: Map<string, number>;
  fields: Map<string, number>;
  cost?: ClientCost | undefined;
}

type Client = { name?: string | undefined; version?: string | undefined };

const MAX_CACHED_DOCUMENTS = 1_000;

export class UsageRecorder {
  readonly #clients = new Map<string, ClientUsage>();
  readonly #names = new BoundedLabel(50, 'unknown');
  readonly #versions = new BoundedLabel(200, 'unknown', VERSION_LIKE);
  readonly #operations = new BoundedLabel(500);
  readonly #since = new Date();

  constructor(readonly metrics: GatewayMetrics = gatewayMetrics()) {}

  /** The client's usage so far, under its bounded name and version. */
  #usageOf(client: Client): ClientUsage {
    const name = this.#names.of(client.name);
    const version = this.#versions.of(client.version);
    const key = `${name}\u0000${version}`;
    let usage = this.#clients.get(key);
    if (!usage) this.#clients.set(key, (usage = { name, version, operations: new Map(), fields: new Map() }));
    return usage;
  }

  /** Counts an operation that passed validation (a refused one used no field). */
  record(client: Client, operationName: string | null | undefined, fields: string[]) {
    const usage = this.#usageOf(client);
    const { name, version } = usage;
    const operation = this.#operations.of(operationName);
    this.metrics.clientOperations.inc({ client_name: name, client_version: version, operation_name: operation });
    usage.operations.set(operation, (usage.operations.get(operation) ?? 0) + 1);
    for (const coordinate of fields) {
      usage.fields.set(coordinate, (usage.fields.get(coordinate) ?? 0) + 1);
      const dot = coordinate.indexOf('.');
      this.metrics.fieldUsage.inc({ client_name: name, type: coordinate.slice(0, dot), field: coordinate.slice(dot + 1) });
    }
  }

  /** Adds an answered operation's estimated and actual cost to its client's. */
  recordCost(client: Client, estimated: number, actual: number) {
    const usage = this.#usageOf(client);
    usage.cost = addCost(usage.cost, operationCost(estimated, actual));
  }

  report(): UsageReport {
    const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    return {
      from: this.#since.toISOString(),
      to: new Date().toISOString(),
      clients: [...this.#clients.values()]
        .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
        .map((c) => ({ name: c.name, version: c.version, operations: sorted(c.operations), fields: sorted(c.fields), ...(c.cost ? { cost: c.cost } : {}) })),
    };
  }
}

/** Records every operation that passed validation, with the fields it selects. */
export function usagePlugin(recorder: UsageRecorder): ApolloServerPlugin<GatewayContext> {
  /** Fields per (query hash, operation name): walking a document once is enough. */
  const fieldsByDocument = new Map<string, string[]>();
  return {
    requestDidStart: async () => ({
      didResolveOperation: async ({ request, document, schema, operationName, queryHash }) => {
        const key = `${queryHash}\u0000${operationName ?? ''}`;
        let fields = fieldsByDocument.get(key);
        if (!fields) {
          fields = fieldsOf(schema, document, operationName);
          if (fieldsByDocument.size >= MAX_CACHED_DOCUMENTS) fieldsByDocument.clear();
          fieldsByDocument.set(key, fields);
        }
        const headers = request.http?.headers;
        recorder.record({ name: headers?.get(CLIENT_NAME_HEADER) ?? undefined, version: headers?.get(CLIENT_VERSION_HEADER) ?? undefined }, operationName, fields);
      },
    }),
  };
}

/** GET /usage: the report, for administrators only (it shows what every client does). */
export function usageRoute(recorder: UsageRecorder, tokens: Tokens): RequestHandler {
  return async (req, res) => {
    const refuse = (status: number, code: string, message: string) => res.status(status).json({ errors: [{ message, extensions: { code } }] });
    let viewer;
    try {
      viewer = await tokens.fromAuthorization(req.headers.authorization);
    } catch (err) {
      return refuse(401, 'UNAUTHENTICATED', (err as Error).message);
    }
    if (!viewer) return refuse(401, 'UNAUTHENTICATED', 'the usage report needs an administrator token: Authorization: Bearer <token>');
    if (viewer.role !== 'ADMIN') return refuse(403, 'FORBIDDEN', 'the usage report requires the ADMIN role');
    res.json(recorder.report());
  };
}

/** Usage by client as a gateway feature: the recording plugin and GET /usage. */
export function useUsage(tokens: Tokens, recorder: UsageRecorder = new UsageRecorder()): GatewayFeature {
  return {
    plugins: [usagePlugin(recorder)],
    routes: (app) => app.get('/usage', usageRoute(recorder, tokens)),
  };
}
