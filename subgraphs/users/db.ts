import { PrismaClient } from '../../prisma/users/generated/client.js';
import type { ClientFactory } from '../../lib/data/database.js';

export type UsersDb = PrismaClient;
export type { User } from '../../prisma/users/generated/client.js';
export const createClient: ClientFactory<UsersDb> = (adapter) => new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
