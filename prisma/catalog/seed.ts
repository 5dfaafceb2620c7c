// Categories, products and the reservations behind the seeded orders (see prisma/seed-data.ts).
import type { Logger } from '../../lib/logger.js';
import { insertInChunks } from '../../lib/data/seeding.js';
import type { PrismaClient } from './generated/client.js';
import { seedPlan } from '../seed-data.js';

export async function seed(db: PrismaClient, scale: number, log: Logger): Promise<void> {
  if ((await db.category.count()) > 0) return;
  const { categories, products, orders } = seedPlan(scale);
  await db.category.createMany({ data: categories });
  await insertInChunks(products, (data) => db.product.createMany({ data }));
  // Seeded orders were sold from stock: their reservations are committed, as if placed here.
  await insertInChunks(orders, (chunk) =>
    db.stockReservation.createMany({ data: chunk.map((o) => ({ orderId: o.id, status: o.status === 'CANCELLED' ? 'RELEASED' : 'COMMITTED', createdAt: o.createdAt })) }),
  );
  const lines = orders.flatMap((o) => o.items.map((i) => ({ orderId: o.id, productId: i.productId, quantity: i.quantity, priceAmount: i.unitPriceAmount, currency: i.currency })));
  await insertInChunks(lines, (data) => db.reservationLine.createMany({ data }));
  log.info({ categories: categories.length, products: products.length }, 'seeded catalog');
}
