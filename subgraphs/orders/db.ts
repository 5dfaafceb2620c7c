import { PrismaClient } from '../../prisma/orders/generated/client.js';
import type { ClientFactory } from '../../lib/database.js';

export type OrdersDb = PrismaClient;
export type { Order, OrderItem, Prisma } from '../../prisma/orders/generated/client.js';
export const createClient: ClientFactory<OrdersDb> = (adapter) => new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
