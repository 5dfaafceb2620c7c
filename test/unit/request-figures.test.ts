// One cost estimate per request (lib/security/request-figures.ts): Apollo Server's pipeline with the
// gateway's plugins that read the estimate (the limits, the access rules, the cost metrics, the
// budget), run in process on the supergraph's API schema, estimates an operation once, and once more
// only when the access rules took fields out; the limits still refuse with their own message and
// a refused operation spends nothing.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GatewayContext } from '../../gateway/context.js';
import { useAuthorization } from '../../gateway/features/authorization.js';
import { useCost } from '../../gateway/features/cost.js';
import { useCostBudget } from '../../gateway/features/cost-budget.js';
import { createLogger } from '../../lib/logger.js';
import { SUPERGRAPH_PATH } from '../../lib/paths.js';
import { estimateOperation } from '../../lib/security/operation-cost.js';
import { DEFAULT_OPERATION_LIMITS } from '../../lib/security/operation-limits.js';
import { limitsPlugin } from '../../lib/server/plugins/limits.js';
import { apiSchemaOf } from '../../tools/schema-check/api-schema.js';

// Every estimate, whoever makes it, is counted: the real function, wrapped.
vi.mock('../../lib/security/operation-cost.js', async (original) => {
  const real = await original<typeof import('../../lib/security/operation-cost.js')>();
  return { ...real, estimateOperation: vi.fn(real.estimateOperation) };
});
const estimates = vi.mocked(estimateOperation);

const supergraphSdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
const logger = createLogger('gateway', 'silent');

describe('the cost of an operation at the gateway', () => {
  const limits = { ...DEFAULT_OPERATION_LIMITS, cost: 100 };
  const authorization = useAuthorization({ rejectUnauthorized: false, logger });
  const cost = useCost({ assumedListSize: 10 });
  const budget = useCostBudget({ points: 1_000, adminPoints: 1_000, servicePoints: 1_000, windowSeconds: 60, key: 'viewer', redis: undefined, limits, logger });
  const api = apiSchemaOf(supergraphSdl);
  const server = new ApolloServer<GatewayContext>({
    schema: api,
    plugins: [limitsPlugin<GatewayContext>(limits), ...(cost.plugins ?? []), ...(authorization.plugins ?? []), ...(budget.plugins ?? [])],
  });
  const context = (clientAddress: string): GatewayContext => ({ viewer: null, authorization: undefined, clientAddress, requestId: 'r', log: logger });
  const run = async (query: string, clientAddress: string) => {
    const response = await server.executeOperation({ query }, { contextValue: context(clientAddress) });
    return response.body.kind === 'single' ? response.body.singleResult : undefined;
  };

  beforeAll(async () => {
    for (const feature of [cost, authorization]) feature.onSupergraph?.({ coreSupergraphSdl: supergraphSdl, apiSchema: api, subgraphs: undefined as never });
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
    await budget.close?.();
  });

  it('is estimated once for the limits, the budget and the cost metrics', async () => {
    estimates.mockClear();
    await run('{ categories { id } }', 'once');
    expect(estimates).toHaveBeenCalledTimes(1);
  });

  it('is estimated once more when the access rules took fields out, since that is what is planned', async () => {
    estimates.mockClear();
    const result = await run('{ products(first: 2) { edges { node { id reviews(first: 1) { edges { node { author { email } } } } } } } }', 'rewritten');
    // (Nothing resolves here: the schema has no resolvers, so `products` fails as null beside the denied field.)
    expect(result?.errors?.map((e) => e.extensions?.code)).toContain('UNAUTHENTICATED');
    expect(estimates).toHaveBeenCalledTimes(2);
  });

  it('is refused by the limits with their message, and the refused operation spends nothing of the budget', async () => {
    estimates.mockClear();
    const refused = await run('{ products(first: 50) { edges { node { id } } } }', 'refused');
    expect(refused?.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['GRAPHQL_VALIDATION_FAILED', 'Query cost limit of 100 exceeded, found 102.']]);
    expect(estimates).toHaveBeenCalledTimes(1);
    // The whole budget (1,000) is still there: ten operations of 100 (products 1, edges 1, 49 × 2) fit.
    for (let i = 0; i < 10; i++) expect((await run('{ products(first: 49) { edges { node { id } } } }', 'refused'))?.errors?.[0]?.extensions?.code).not.toBe('TOO_MANY_REQUESTS');
  });
});
