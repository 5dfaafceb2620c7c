// Reviews of seeded products by seeded customers (see prisma/seed-data.ts).
import type { Logger } from '../../lib/logger.js';
import { insertInChunks } from '../../lib/data/seeding.js';
import type { PrismaClient } from './generated/client.js';
import { seedPlan } from '../seed-data.js';

export async function seed(db: PrismaClient, scale: number, log: Logger): Promise<void> {
  if ((await db.review.count()) > 0) return;
  const { reviews } = seedPlan(scale);
  await insertInChunks(reviews, (data) => db.review.createMany({ data }));
  log.info({ reviews: reviews.length }, 'seeded reviews');
}
