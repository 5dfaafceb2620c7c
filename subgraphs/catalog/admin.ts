// Catalog administration (ADMIN only): creating and editing products, adjusting stock.
import { z } from 'zod';
import { isUniqueViolation } from '../../lib/data/database.js';
import { badUserInput, notFound } from '../../lib/errors.js';
import { parseInput } from '../../lib/subgraph/validation.js';
import type { CatalogDb } from './db.js';
import { productChanged } from './live.js';

const MAX_AMOUNT = 100_000_000; // $1,000,000.00 in cents
export const MAX_STOCK = 1_000_000;
const MAX_GRAMS = 1_000_000;

const fields = {
  sku: z.string().trim().min(1, 'sku must not be empty').max(64, 'sku must be at most 64 characters').regex(/^[A-Za-z0-9._-]+$/, 'sku may only contain letters, digits, ".", "_" and "-"'),
  name: z.string().trim().min(1, 'name must not be empty').max(200, 'name must be at most 200 characters'),
  description: z.string().max(5000, 'description must be at most 5000 characters').nullish(),
  price: z.number().int().min(0, 'price must not be negative').max(MAX_AMOUNT, `price must be at most ${MAX_AMOUNT}`),
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as USD'),
  stock: z.number().int().min(0, 'stock must not be negative').max(MAX_STOCK, `stock must be at most ${MAX_STOCK}`),
  weightGrams: z.number().int().min(0, 'weightGrams must not be negative').max(MAX_GRAMS, `weightGrams must be at most ${MAX_GRAMS}`),
  categoryId: z.string().min(1).max(64),
};

const createInput = z.object({ ...fields, currency: fields.currency.nullish() });
const updateInput = z.object({
  name: fields.name.nullish(),
  description: fields.description,
  price: fields.price.nullish(),
  currency: fields.currency.nullish(),
  weightGrams: fields.weightGrams.nullish(),
  categoryId: fields.categoryId.nullish(),
});
const delta = z.number().int().min(-MAX_STOCK).max(MAX_STOCK).refine((d) => d !== 0, 'delta must not be zero');

async function requireCategory(db: CatalogDb, id: string, field: string) {
  if (!(await db.category.findUnique({ where: { id }, select: { id: true } }))) {
    throw badUserInput(`category ${JSON.stringify(id)} does not exist`, field);
  }
}

export async function createProduct(db: CatalogDb, raw: unknown) {
  const input = parseInput(createInput, raw, 'input');
  await requireCategory(db, input.categoryId, 'input.categoryId');
  try {
    return await db.product.create({
      data: {
        sku: input.sku,
        name: input.name,
        description: input.description ?? null,
        priceAmount: input.price,
        currency: input.currency ?? 'USD',
        stock: input.stock,
        weightGrams: input.weightGrams,
        categoryId: input.categoryId,
      },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw badUserInput(`a product with sku ${JSON.stringify(input.sku)} already exists`, 'input.sku');
    throw err;
  }
}

export async function updateProduct(db: CatalogDb, id: string, raw: unknown) {
  const input = parseInput(updateInput, raw, 'input');
  if (!(await db.product.findUnique({ where: { id }, select: { id: true } }))) throw notFound('product', id);
  if (input.categoryId) await requireCategory(db, input.categoryId, 'input.categoryId');
  return db.$transaction(async (tx) => {
    const product = await tx.product.update({
    where: { id },
    data: {
      name: input.name ?? undefined,
      // An explicit null clears the description; an absent field leaves it alone.
      description: input.description === undefined ? undefined : input.description,
      priceAmount: input.price ?? undefined,
      currency: input.currency ?? undefined,
      weightGrams: input.weightGrams ?? undefined,
      categoryId: input.categoryId ?? undefined,
    },
    });
    await productChanged(tx, [product.id]);
    return product;
  });
}

/**
 * Adds `delta` atomically: the conditional update never lets concurrent adjustments push the
 * stock below zero or above MAX_STOCK.
 */
export async function adjustStock(db: CatalogDb, productId: string, rawDelta: number) {
  const d = parseInput(delta, rawDelta, 'delta');
  const count = await db.$transaction(async (tx) => {
    const { count: changed } = await tx.product.updateMany({
      where: { id: productId, stock: { gte: -d, lte: MAX_STOCK - d } },
      data: { stock: { increment: d } },
    });
    if (changed > 0) await productChanged(tx, [productId]);
    return changed;
  });
  const product = await db.product.findUnique({ where: { id: productId } });
  if (!product) throw notFound('product', productId);
  if (count === 0) {
    const limit = d < 0 ? 'it cannot go below zero' : `it cannot go above ${MAX_STOCK}`;
    throw badUserInput(`stock is ${product.stock}: ${limit}`, 'delta');
  }
  return product;
}
