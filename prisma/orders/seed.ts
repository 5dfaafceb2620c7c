// Past orders of seeded customers, with the prices they paid (see prisma/seed-data.ts).
import type { Logger } from '../../lib/logger.js';
import { insertInChunks } from '../../lib/data/seeding.js';
import type { PrismaClient } from './generated/client.js';
import { seedPlan } from '../seed-data.js';

export async function seed(db: PrismaClient, scale: number, log: Logger): Promise<void> {
  if ((await db.order.count()) > 0) return;
  const { orders } = seedPlan(scale);
  await insertInChunks(orders, (chunk) =>
    db.order.createMany({
      data: chunk.map((o) => ({
        id: o.id,
        userId: o.userId,
        status: o.status,
        currency: 'USD',
        totalAmount: o.items.reduce((sum, i) => sum + i.quantity * i.unitPriceAmount, 0),
        createdAt: o.createdAt,
        stockReleasedAt: o.status === 'CANCELLED' ? o.createdAt : null,
      })),
    }),
  );
  const items = orders.flatMap((o) => o.items.map((i) => ({ orderId: o.id, ...i })));
  await insertInChunks(items, (data) => db.orderItem.createMany({ data }));
  log.info({ orders: orders.length }, 'seeded orders');
}
