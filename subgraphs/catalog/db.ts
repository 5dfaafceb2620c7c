import { PrismaClient } from '../../prisma/catalog/generated/client.js';
import type { ClientFactory } from '../../lib/data/database.js';

export type CatalogDb = PrismaClient;
export type { Category, Prisma, Product } from '../../prisma/catalog/generated/client.js';
export const createClient: ClientFactory<CatalogDb> = (adapter) => new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });

// The parents the resolvers receive (codegen mappers).
import type { Connection } from '../../lib/subgraph/connection.js';
import type { Product as ProductRow, ReservationLine, StockReservation } from '../../prisma/catalog/generated/client.js';
export type ProductConnection = Connection<ProductRow>;
export type ProductEdge = ProductConnection['edges'][number];
export type ReservationWithLines = StockReservation & { lines: ReservationLine[] };
export type { ReservationLine };
