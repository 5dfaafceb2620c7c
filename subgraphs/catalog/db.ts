import { PrismaClient } from '../../prisma/catalog/generated/client.js';
import type { ClientFactory } from '../../lib/database.js';

export type CatalogDb = PrismaClient;
export type { Category, Prisma, Product } from '../../prisma/catalog/generated/client.js';
export const createClient: ClientFactory<CatalogDb> = (adapter) => new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
