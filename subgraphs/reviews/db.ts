import { PrismaClient } from '../../prisma/reviews/generated/client.js';
import type { ClientFactory } from '../../lib/data/database.js';

export type ReviewsDb = PrismaClient;
export type { Prisma, Review } from '../../prisma/reviews/generated/client.js';
export const createClient: ClientFactory<ReviewsDb> = (adapter) => new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });

// The parents the resolvers receive (codegen mappers).
import type { Connection } from '../../lib/subgraph/connection.js';
import type { Review as ReviewRow } from '../../prisma/reviews/generated/client.js';
export type ReviewConnection = Connection<ReviewRow>;
export type ReviewEdge = ReviewConnection['edges'][number];
/** Reviews knows products and users by id only. */
export interface EntityReference {
  id: string;
}
