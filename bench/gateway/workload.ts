// What the gateways are loaded with: four shapes that stress different parts of a federated
// gateway, and the clients' own hot operations from operations/, each in two forms. Varied: every
// request asks for something else (another product, page, cursor or customer, from the seeded
// data), as a shop's traffic mostly does; it comes first. Repeated: every request the same, the
// popular page, where deduplication of identical requests in flight has the most to merge.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../lib/paths.js';
import { Tokens } from '../../lib/security/auth.js';
import type { SigningKey } from '../../lib/security/keys.js';
import { seedPlan } from '../../prisma/seed-data.js';
import { post } from '../runner/graphql.js';

/** One request of a workload: its variables and, for a customer's operation, the customer's token. */
export interface Variant {
  variables?: Record<string, unknown>;
  token?: string;
}

export interface Workload {
  name: string;
  form: 'varied' | 'repeated';
  query: string;
  /** The requests, sent in turn: one for the repeated form, thousands for the varied one. */
  variants: Variant[];
}

/** What the varied forms draw from: the seeded products, the pages and cursors of the catalog, the customers. */
export interface Pool {
  productIds: string[];
  /** The cursor after each product of the catalog's default order (a page starting anywhere). */
  cursors: string[];
  /** A page of each category starting after each of its products. */
  categoryPages: { slug: string; after: string | null }[];
  /** A token of every seeded customer who has orders. */
  customerTokens: string[];
}

const clientOperation = (client: string, name: string) => readFileSync(path.join(ROOT, 'operations', client, `${name}.graphql`), 'utf8');

/** Reads the pages of the seeded catalog through `url` and signs a token for every customer with orders. */
export async function seededPool(url: string, scale: number, usersKey: SigningKey): Promise<Pool> {
  const productIds: string[] = [];
  const cursors: string[] = [];
  for (let after: string | null = null; ; ) {
    const page = await post(url, { query: 'query ($after: String) { products(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }', variables: { after } });
    if (!page.data) throw new Error(`reading the catalog: ${JSON.stringify(page.errors)}`);
    for (const edge of page.data.products.edges as { cursor: string; node: { id: string } }[]) {
      productIds.push(edge.node.id);
      cursors.push(edge.cursor);
    }
    if (!page.data.products.pageInfo.hasNextPage) break;
    after = page.data.products.pageInfo.endCursor as string;
  }
  const categoryPages: Pool['categoryPages'] = [];
  const categories = await post(url, { query: '{ categories { slug } }' });
  for (const { slug } of categories.data.categories as { slug: string }[]) {
    categoryPages.push({ slug, after: null });
    for (let after: string | null = null; ; ) {
      const page = await post(url, {
        query: 'query ($slug: String!, $after: String) { category(slug: $slug) { products(first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor } } } }',
        variables: { slug, after },
      });
      const products = page.data?.category?.products;
      if (!products) throw new Error(`reading category ${slug}: ${JSON.stringify(page.errors)}`);
      for (const edge of products.edges as { cursor: string }[]) categoryPages.push({ slug, after: edge.cursor });
      if (!products.pageInfo.hasNextPage) break;
      after = products.pageInfo.endCursor as string;
    }
  }
  const tokens = new Tokens({ users: { signing: usersKey, verifying: [usersKey] } });
  const customers = [...new Set(seedPlan(scale).orders.map((o) => o.userId))];
  const customerTokens = await Promise.all(customers.map((id) => tokens.sign({ id, role: 'CUSTOMER' })));
  return { productIds, cursors, categoryPages, customerTokens };
}

/** Every workload in both forms, the varied ones first; `alice` is the repeated form's customer. */
export function workloads(pool: Pool, alice: string): Workload[] {
  const shapes: { name: string; query: string; repeated: Variant; varied: Variant[]; variedQuery?: string }[] = [
    {
      name: 'Q1 products(first: 10), catalog only',
      query: 'query ($after: String) { products(first: 10, after: $after) { edges { node { id name price { amount currency } } } } }',
      repeated: {},
      varied: pool.cursors.map((after) => ({ variables: { after } })),
    },
    {
      name: 'Q2 20 products, reviews, authors, ratings, shipping',
      query: `query ($after: String) { products(first: 20, after: $after) { edges { node { id name price { amount currency } averageRating reviewCount
        shippingEstimate { amount currency }
        reviews(first: 3) { edges { node { rating body author { name } } } } } } } }`,
      repeated: {},
      varied: pool.cursors.map((after) => ({ variables: { after } })),
    },
    {
      name: 'Q3 categories > products > reviews > author > reviews > product',
      query: `{ categories { name products(first: 5) { edges { node { name reviews(first: 3) { edges { node { rating
        author { name reviews(first: 3) { rating product { name price { amount } } } } } } } } } } } }`,
      repeated: {},
      // One category's page per request, from anywhere in it: the same chain under another root each time.
      variedQuery: `query ($slug: String!, $after: String) { category(slug: $slug) { name products(first: 5, after: $after) { edges { node { name
        reviews(first: 3) { edges { node { rating author { name reviews(first: 3) { rating product { name price { amount } } } } } } } } } } } }`,
      varied: pool.categoryPages.map((variables) => ({ variables })),
    },
    {
      name: 'Q4 me > orders(10) > items > product',
      query: '{ me { name orders(first: 10) { edges { node { id status items { quantity product { name } } } } } } }',
      repeated: { token: alice },
      varied: pool.customerTokens.map((token) => ({ token })),
    },
    {
      name: 'web ProductList',
      query: clientOperation('web', 'ProductList'),
      repeated: { variables: { first: 20 } },
      varied: pool.cursors.map((after) => ({ variables: { first: 20, after } })),
    },
    {
      name: 'web ProductDetail',
      query: clientOperation('web', 'ProductDetail'),
      repeated: { variables: { id: pool.productIds[0] } },
      varied: pool.productIds.map((id) => ({ variables: { id } })),
    },
    {
      name: 'mobile HomeFeed',
      query: clientOperation('mobile', 'HomeFeed'),
      repeated: {},
      // The feed has no cursor: the newest 5 to 50 products.
      varied: Array.from({ length: 46 }, (_, i) => ({ variables: { first: 5 + i } })),
    },
  ];
  return [
    ...shapes.map((s) => ({ name: `${s.name}, varied`, form: 'varied' as const, query: s.variedQuery ?? s.query, variants: s.varied })),
    ...shapes.map((s) => ({ name: `${s.name}, repeated`, form: 'repeated' as const, query: s.query, variants: [s.repeated] })),
  ];
}

/** A few variants spread over the whole list (for checking that every gateway answers them alike). */
export function sampleOf(variants: Variant[], count = 5): Variant[] {
  if (variants.length <= count) return variants;
  return Array.from({ length: count }, (_, i) => variants[Math.floor((i * (variants.length - 1)) / (count - 1))]!);
}
