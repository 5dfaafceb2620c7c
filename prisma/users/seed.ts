// Demo accounts and generated customers (see prisma/seed-data.ts).
import type { Logger } from '../../lib/logger.js';
import { insertInChunks } from '../../lib/data/seeding.js';
import { hashPassword } from '../../lib/security/password.js';
import type { PrismaClient } from './generated/client.js';
import { seedPlan } from '../seed-data.js';

export async function seed(db: PrismaClient, scale: number, log: Logger): Promise<void> {
  if ((await db.user.count()) > 0) return;
  const { users } = seedPlan(scale);
  // scrypt is slow on purpose: hash each distinct password once.
  const hashes = new Map<string, string>();
  for (const password of new Set(users.map((u) => u.password))) hashes.set(password, await hashPassword(password));
  const rows = users.map(({ password, ...u }) => ({ ...u, passwordHash: hashes.get(password)! }));
  await insertInChunks(rows, (data) => db.user.createMany({ data }));
  log.info({ users: users.length }, 'seeded users');
}
