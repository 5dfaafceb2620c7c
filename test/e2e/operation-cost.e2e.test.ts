// The cost of operations at the gateway from the supergraph's @cost and @listSize
// (gateway/features/cost.ts): the estimate before planning and the actual cost of the answer, in
// `extensions.cost` when the client asks with `x-operation-cost: true`, and in
// gateway_operation_cost by client either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceMetrics } from '../../lib/telemetry/metrics.js';
import { bearer, send, startStack, type Stack } from '../support/harness.js';

describe('operation cost at the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('pglite');
  });
  afterAll(() => stack?.stop());

  const observed = async (kind: string, client: string) => {
    const metric = await serviceMetrics('gateway').registry.getSingleMetric('gateway_operation_cost')!.get();
    const count = metric.values.find((v) => (v as { metricName?: string }).metricName === 'gateway_operation_cost_count' && v.labels.kind === kind && v.labels.client_name === client);
    const sum = metric.values.find((v) => (v as { metricName?: string }).metricName === 'gateway_operation_cost_sum' && v.labels.kind === kind && v.labels.client_name === client);
    return { count: count?.value ?? 0, sum: sum?.value ?? 0 };
  };

  it('answers the estimate (from @listSize) and the actual cost when asked, and records both by client', async () => {
    const query = '{ products(first: 3) { edges { node { id } } } categories { id } }';
    const headers = { 'x-operation-cost': 'true', 'apollographql-client-name': 'cost-probe', ...bearer(undefined) };
    const before = await observed('actual', 'cost-probe');
    const res = await send(stack.gatewayUrl, { query }, { headers });
    expect(res.errors).toBeUndefined();
    const categories = (res.data as { categories: unknown[] }).categories.length;
    // products 1 + edges 1 + 3 × (node 1 + id 1); categories 1 + 20 (assumedSize) × id 1
    expect(res.extensions?.cost).toEqual({ estimated: 1 + 1 + 3 * 2 + 1 + 20, actual: 1 + 1 + 3 * 2 + 1 + categories });
    const after = await observed('actual', 'cost-probe');
    expect(after.count - before.count).toBe(1);
    expect(after.sum - before.sum).toBe(1 + 1 + 3 * 2 + 1 + categories);
    expect((await observed('estimated', 'cost-probe')).sum).toBeGreaterThanOrEqual(1 + 1 + 3 * 2 + 1 + 20);
    // Not asked: no extension.
    expect((await send(stack.gatewayUrl, { query })).extensions?.cost).toBeUndefined();
  });

  it('estimates the operation as planned: fields the access rules took out cost nothing', async () => {
    const res = await send(stack.gatewayUrl, { query: '{ products(first: 2) { edges { node { id reviews(first: 5) { edges { node { author { email } } } } } } } }' }, { headers: { 'x-operation-cost': 'true' } });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'UNAUTHORIZED_FIELD_OR_TYPE' });
    // author's one field is denied: author, then node, edges and reviews, each left empty, are taken out too.
    expect(res.extensions?.cost).toEqual({ estimated: 1 + 1 + 2 * (1 + 1), actual: 1 + 1 + 2 * (1 + 1) });
  });
});
