// Product listing: filters, orderings and keyset cursor paging over (sort column, id).
import { z } from 'zod';
import { decodeCursor, pageSize, toConnection, type CursorValue } from '../../lib/connection.js';
import { badUserInput } from '../../lib/errors.js';
import { parseInput } from '../../lib/validation.js';
import type { CatalogDb, Prisma, Product } from './db.js';

export interface ProductListArgs {
  first?: number | null;
  after?: string | null;
  filter?: unknown;
  orderBy?: { field: 'NAME' | 'PRICE' | 'CREATED_AT'; direction: 'ASC' | 'DESC' } | null;
}

const filterSchema = z
  .object({
    categoryId: z.string().max(64).nullish(),
    search: z.string().trim().max(200, 'search must be at most 200 characters').nullish(),
    minPrice: z.number().int().min(0, 'minPrice must not be negative').nullish(),
    maxPrice: z.number().int().min(0, 'maxPrice must not be negative').nullish(),
    inStock: z.boolean().nullish(),
  })
  .nullish();

const COLUMNS = { NAME: 'name', PRICE: 'priceAmount', CREATED_AT: 'createdAt' } as const;
type SortColumn = (typeof COLUMNS)[keyof typeof COLUMNS];

function whereOf(filter: z.infer<typeof filterSchema>): Prisma.ProductWhereInput {
  if (!filter) return {};
  const where: Prisma.ProductWhereInput = {};
  if (filter.categoryId) where.categoryId = filter.categoryId;
  if (filter.search) {
    where.OR = (['name', 'description', 'sku'] as const).map((f) => ({ [f]: { contains: filter.search, mode: 'insensitive' } }));
  }
  if (filter.minPrice != null || filter.maxPrice != null) {
    where.priceAmount = { gte: filter.minPrice ?? undefined, lte: filter.maxPrice ?? undefined };
  }
  if (filter.inStock != null) where.stock = filter.inStock ? { gt: 0 } : { equals: 0 };
  return where;
}

const sortValue = (p: Product, column: SortColumn): CursorValue =>
  column === 'createdAt' ? p.createdAt.toISOString() : p[column];

/** Rows strictly after the cursor's (value, id) in the given direction. */
function afterCursor(column: SortColumn, desc: boolean, cursor: CursorValue[]): Prisma.ProductWhereInput {
  const [raw, id] = cursor;
  const value = column === 'createdAt' ? new Date(String(raw)) : raw;
  const fits =
    typeof id === 'string' &&
    (column === 'priceAmount' ? Number.isInteger(value) : column === 'name' ? typeof value === 'string' : !Number.isNaN((value as Date).getTime()));
  // A cursor of another ordering (or a hand-made one) cannot say where this page starts.
  if (!fits) throw badUserInput('invalid cursor for this ordering: pass an endCursor from the same query', 'after');
  const beyond = desc ? 'lt' : 'gt';
  return { OR: [{ [column]: { [beyond]: value } }, { [column]: value, id: { [beyond]: id } }] };
}

export async function listProducts(db: CatalogDb, args: ProductListArgs, fixed: Prisma.ProductWhereInput = {}) {
  const first = pageSize(args.first, 20);
  const filter = parseInput(filterSchema, args.filter, 'filter');
  const column: SortColumn = COLUMNS[args.orderBy?.field ?? 'CREATED_AT'];
  const desc = (args.orderBy?.direction ?? 'DESC') === 'DESC';
  const where: Prisma.ProductWhereInput = { AND: [fixed, whereOf(filter)] };
  const page: Prisma.ProductWhereInput = args.after ? { AND: [where, afterCursor(column, desc, decodeCursor(args.after, 2))] } : where;
  const direction = desc ? 'desc' : 'asc';
  const rows = await db.product.findMany({
    where: page,
    orderBy: [{ [column]: direction }, { id: direction }],
    take: first + 1,
  });
  return toConnection(rows, first, (p) => [sortValue(p, column), p.id], () => db.product.count({ where }));
}
