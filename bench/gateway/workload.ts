// What the gateways are loaded with: four shapes that stress different parts of a federated
// gateway, and the clients' own hot operations from operations/, as the clients send them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../lib/paths.js';

export interface Workload {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Sent as `Authorization: Bearer <token>` (a logged-in customer). */
  authenticated?: boolean;
}

const clientOperation = (client: string, name: string) => readFileSync(path.join(ROOT, 'operations', client, `${name}.graphql`), 'utf8');

export function workloads(productId: string): Workload[] {
  return [
    { name: 'Q1 products(first: 10), catalog only', query: '{ products(first: 10) { edges { node { id name price { amount currency } } } } }' },
    {
      name: 'Q2 20 products, reviews, authors, ratings, shipping',
      query: `{ products(first: 20) { edges { node { id name price { amount currency } averageRating reviewCount
        shippingEstimate { amount currency }
        reviews(first: 3) { edges { node { rating body author { name } } } } } } } }`,
    },
    {
      name: 'Q3 categories > products > reviews > author > reviews > product',
      query: `{ categories { name products(first: 5) { edges { node { name reviews(first: 3) { edges { node { rating
        author { name reviews(first: 3) { rating product { name price { amount } } } } } } } } } } } }`,
    },
    {
      name: 'Q4 me > orders(10) > items > product',
      query: '{ me { name orders(first: 10) { edges { node { id status items { quantity product { name } } } } } } }',
      authenticated: true,
    },
    { name: 'web ProductList', query: clientOperation('web', 'ProductList'), variables: { first: 20 } },
    { name: 'web ProductDetail', query: clientOperation('web', 'ProductDetail'), variables: { id: productId } },
    { name: 'mobile HomeFeed', query: clientOperation('mobile', 'HomeFeed') },
  ];
}
