// Product listing: filters, orderings and keyset cursor paging over (sort column, id).
import { z } from 'zod';
import { cursorPart, decodeCursor, pageSize, toConnection, type CursorValue } from '../../lib/subgraph/connection.js';
import { parseInput } from '../../lib/subgraph/validation.js';
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
type OrderField = keyof typeof COLUMNS;

/** A cursor names its ordering, so a cursor of another ordering is refused rather than misread. */
const CURSORS = {
  NAME: z.tuple([cursorPart.tag('NAME'), cursorPart.text, cursorPart.id]),
  PRICE: z.tuple([cursorPart.tag('PRICE'), cursorPart.int32, cursorPart.id]),
  CREATED_AT: z.tuple([cursorPart.tag('CREATED_AT'), cursorPart.timestamp, cursorPart.id]),
} as const;

/** `contains` is a LIKE pattern: its wildcards and escape character must match themselves. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function whereOf(filter: z.infer<typeof filterSchema>): Prisma.ProductWhereInput {
  if (!filter) return {};
  const where: Prisma.ProductWhereInput = {};
  if (filter.categoryId) where.categoryId = filter.categoryId;
  if (filter.search) {
    const contains = likeLiteral(filter.search);
    where.OR = (['name', 'description', 'sku'] as const).map((f) => ({ [f]: { contains, mode: 'insensitive' } }));
  }
  if (filter.minPrice != null || filter.maxPrice != null) {
    where.priceAmount = { gte: filter.minPrice ?? undefined, lte: filter.maxPrice ?? undefined };
  }
  if (filter.inStock != null) where.stock = filter.inStock ? { gt: 0 } : { equals: 0 };
  return where;
}

const cursorOf = (p: Product, field: OrderField): CursorValue[] => {
  const value = field === 'CREATED_AT' ? p.createdAt.toISOString() : p[COLUMNS[field]];
  return [field, value, p.id];
};

/** Rows strictly after the cursor's (value, id) in the given direction. */
function afterCursor(field: OrderField, desc: boolean, after: string): Prisma.ProductWhereInput {
  const [, raw, id] = decodeCursor(after, CURSORS[field]);
  const value = field === 'CREATED_AT' ? new Date(raw) : raw;
  const column = COLUMNS[field];
  const beyond = desc ? 'lt' : 'gt';
  return { OR: [{ [column]: { [beyond]: value } }, { [column]: value, id: { [beyond]: id } }] };
}

export async function listProducts(db: CatalogDb, args: ProductListArgs, fixed: Prisma.ProductWhereInput = {}) {
  const first = pageSize(args.first, 20);
  const filter = parseInput(filterSchema, args.filter, 'filter');
  const field: OrderField = args.orderBy?.field ?? 'CREATED_AT';
  const desc = (args.orderBy?.direction ?? 'DESC') === 'DESC';
  const where: Prisma.ProductWhereInput = { AND: [fixed, whereOf(filter)] };
  const page: Prisma.ProductWhereInput = args.after ? { AND: [where, afterCursor(field, desc, args.after)] } : where;
  const direction = desc ? 'desc' : 'asc';
  const rows = await db.product.findMany({
    where: page,
    orderBy: [{ [COLUMNS[field]]: direction }, { id: direction }],
    take: first + 1,
  });
  return toConnection(rows, first, (p) => cursorOf(p, field), () => db.product.count({ where }));
}
