import { PrismaClient } from '../../prisma/reviews/generated/client.js';
import type { ClientFactory } from '../../lib/database.js';

export type ReviewsDb = PrismaClient;
export type { Prisma, Review } from '../../prisma/reviews/generated/client.js';
export const createClient: ClientFactory<ReviewsDb> = (adapter) => new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
