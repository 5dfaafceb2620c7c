// Each subgraph asked directly, the way the gateway asks it (as Apollo's subgraph compatibility
// suite does): its SDL, and every entity it resolves by key, in one batched _entities call.
import { readFileSync } from 'node:fs';
import { Kind, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subgraphSchemaPath } from '../../lib/paths.js';
import { SERVICE_NAMES } from '../../lib/services.js';
import { DEMO_ACCOUNTS, seedId } from '../../prisma/seed-data.js';
import { graphql, startStack, type Stack } from '../support/harness.js';

/** Every `Type`, `Type.field` and `Enum.VALUE` a schema document defines, with its directives. */
function coordinates(sdl: string): string[] {
  const names: string[] = [];
  for (const d of parse(sdl).definitions) {
    if (!('name' in d) || !d.name || d.kind === Kind.DIRECTIVE_DEFINITION) continue;
    names.push(`${d.name.value} ${('directives' in d ? (d.directives ?? []) : []).map((x) => print(x)).join(' ')}`.trim());
    for (const f of ('fields' in d ? (d.fields ?? []) : []) as readonly { name: { value: string } }[]) names.push(`${d.name.value}.${f.name.value}`);
    for (const v of 'values' in d ? (d.values ?? []) : []) names.push(`${d.name.value}.${v.name.value}`);
  }
  return names.sort();
}

const entities = (reps: unknown[], selection: string) => ({
  query: `query($reps: [_Any!]!) { _entities(representations: $reps) { __typename ${selection} } }`,
  variables: { reps },
});

describe('the subgraphs, asked directly', () => {
  let stack: Stack;
  let aliceToken: string;
  beforeAll(async () => {
    stack = await startStack('pglite');
    aliceToken = await stack.login(DEMO_ACCOUNTS[1].email, DEMO_ACCOUNTS[1].password);
  });
  afterAll(() => stack?.stop());

  it.each(SERVICE_NAMES)('%s serves the SDL of its schema.graphql', async (name) => {
    const res = await graphql(stack.urls[name], '{ _service { sdl } }');
    // The served SDL adds federation's own definitions (_Service, link__Import, ...) to the file's.
    expect(coordinates(res.data!._service.sdl)).toEqual(expect.arrayContaining(coordinates(readFileSync(subgraphSchemaPath(name), 'utf8'))));
  });

  it('users resolves users by id, null for unknown ones', async () => {
    const { query, variables } = entities(
      [{ __typename: 'User', id: seedId('user', 'alice@example.com') }, { __typename: 'User', id: seedId('user', 'nobody') }],
      '... on User { name email }',
    );
    const res = await graphql(stack.users.url, query, variables);
    expect(res.data!._entities).toEqual([{ __typename: 'User', name: 'Alice Example', email: null }, null]);
  });

  it('catalog resolves products by id and by sku, and categories', async () => {
    const { query, variables } = entities(
      [
        { __typename: 'Product', id: seedId('product', 8) },
        { __typename: 'Product', sku: 'KIT-00008' },
        { __typename: 'Category', id: seedId('category', 'kitchen') },
      ],
      '... on Product { id sku } ... on Category { slug }',
    );
    const res = await graphql(stack.catalog.url, query, variables);
    expect(res.data!._entities).toEqual([
      { __typename: 'Product', id: seedId('product', 8), sku: 'KIT-00008' },
      { __typename: 'Product', id: seedId('product', 8), sku: 'KIT-00008' },
      { __typename: 'Category', slug: 'kitchen' },
    ]);
  });

  it('orders computes shippingEstimate from the price and weight the gateway passes (@requires)', async () => {
    const { query, variables } = entities(
      [{ __typename: 'Product', id: seedId('product', 'any'), price: { amount: 1500, currency: 'EUR' }, weightGrams: 1200 }],
      '... on Product { shippingEstimate { amount currency } }',
    );
    const res = await graphql(stack.urls.orders, query, variables);
    expect(res.data!._entities).toEqual([{ __typename: 'Product', shippingEstimate: { amount: 499 + 2 * 150, currency: 'EUR' } }]);
  });

  it("orders resolves an order by id for its owner only", async () => {
    const { query, variables } = entities([{ __typename: 'Order', id: seedId('order', 1) }], '... on Order { status }');
    // Order 1 belongs to Bob (the seed gives Alice and Bob the first orders in turn).
    const asAlice = await graphql(stack.urls.orders, query, variables, aliceToken);
    expect(asAlice.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await graphql(stack.urls.orders, query, variables);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('reviews resolves reviews and contributes ratings to products it does not own', async () => {
    const { query, variables } = entities(
      [{ __typename: 'Product', id: seedId('product', 'unknown') }, { __typename: 'Review', id: seedId('review', 'unknown') }],
      '... on Product { reviewCount averageRating } ... on Review { rating }',
    );
    const res = await graphql(stack.reviews.url, query, variables);
    expect(res.data!._entities).toEqual([{ __typename: 'Product', reviewCount: 0, averageRating: null }, null]);
  });
});
