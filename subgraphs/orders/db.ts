import { PrismaClient } from '../../prisma/orders/generated/client.js';
import type { ClientFactory } from '../../lib/data/database.js';

export type OrdersDb = PrismaClient;
export type { Order, OrderItem, Prisma } from '../../prisma/orders/generated/client.js';
export const createClient: ClientFactory<OrdersDb> = (adapter) => new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });

// The parents the resolvers receive (codegen mappers).
import type { Connection } from '../../lib/subgraph/connection.js';
import type { Order as OrderRow } from '../../prisma/orders/generated/client.js';
import type { Money } from './shipping.js';
export type OrderConnection = Connection<OrderRow>;
export type OrderEdge = OrderConnection['edges'][number];
/** A Product as orders sees it: its key, plus the catalog fields that shippingEstimate @requires. */
export interface ProductReference {
  id: string;
  price?: Money;
  weightGrams?: number;
}
export interface UserReference {
  id: string;
}
