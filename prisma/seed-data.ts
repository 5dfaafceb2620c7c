// The demo data of all four databases, computed deterministically from one seed so that each
// subgraph can insert its own part and the ids still agree across services (a review's author
// is a seeded user, an order item's product a seeded product) without reading another database.
import { createHash } from 'node:crypto';

export const DEMO_ACCOUNTS = [
  { email: 'admin@example.com', password: 'demo-admin-1', name: 'Ada Admin', role: 'ADMIN' },
  { email: 'alice@example.com', password: 'demo-alice-1', name: 'Alice Example', role: 'CUSTOMER' },
  { email: 'bob@example.com', password: 'demo-bob-1', name: 'Bob Example', role: 'CUSTOMER' },
] as const;
/** Every generated customer (customer1@example.com, ...) shares this password. */
export const GENERATED_CUSTOMER_PASSWORD = 'demo-customer-1';

export interface SeedUser { id: string; email: string; name: string; role: 'CUSTOMER' | 'ADMIN'; password: string; createdAt: Date }
export interface SeedCategory { id: string; slug: string; name: string }
export interface SeedProduct {
  id: string; sku: string; name: string; description: string; priceAmount: number; currency: string;
  stock: number; weightGrams: number; categoryId: string; createdAt: Date;
}
export interface SeedReview { id: string; productId: string; authorId: string; rating: number; body: string | null; createdAt: Date }
export interface SeedOrderItem { productId: string; quantity: number; unitPriceAmount: number; currency: string }
export interface SeedOrder { id: string; userId: string; status: 'CONFIRMED' | 'CANCELLED'; createdAt: Date; items: SeedOrderItem[] }
export interface SeedPlan { users: SeedUser[]; categories: SeedCategory[]; products: SeedProduct[]; reviews: SeedReview[]; orders: SeedOrder[] }

/** A UUID-shaped id that is the same on every machine for the same (kind, n). */
export function seedId(kind: string, n: number | string): string {
  const h = createHash('sha1').update(`commerce-seed:${kind}:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** mulberry32: small, fast and the same everywhere. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, int, pick };
}

const CATEGORIES = [
  { slug: 'kitchen', name: 'Kitchen', nouns: ['Chef Knife', 'Skillet', 'Kettle', 'Cutting Board', 'Espresso Cup', 'Dutch Oven', 'Whisk', 'Salad Bowl'], grams: [150, 4500] },
  { slug: 'outdoor', name: 'Outdoor', nouns: ['Tent', 'Sleeping Bag', 'Headlamp', 'Trekking Pole', 'Water Bottle', 'Camp Stove', 'Rain Jacket'], grams: [90, 4000] },
  { slug: 'office', name: 'Office', nouns: ['Notebook', 'Desk Lamp', 'Fountain Pen', 'Monitor Stand', 'Desk Mat', 'Stapler', 'Letter Tray'], grams: [20, 2500] },
  { slug: 'audio', name: 'Audio', nouns: ['Headphones', 'Bookshelf Speaker', 'Turntable', 'Earbuds', 'Soundbar', 'Microphone'], grams: [40, 6000] },
  { slug: 'apparel', name: 'Apparel', nouns: ['T-Shirt', 'Hoodie', 'Wool Socks', 'Denim Jacket', 'Beanie', 'Chinos', 'Scarf'], grams: [60, 1200] },
  { slug: 'toys', name: 'Toys & Games', nouns: ['Puzzle', 'Board Game', 'Building Set', 'Kite', 'Yo-Yo', 'Card Game'], grams: [50, 2000] },
  { slug: 'garden', name: 'Garden', nouns: ['Trowel', 'Watering Can', 'Planter', 'Pruning Shears', 'Seed Kit', 'Hose Reel'], grams: [100, 7000] },
  { slug: 'books', name: 'Books', nouns: ['Cookbook', 'Field Guide', 'Novel', 'Atlas', 'Sketchbook', 'Poetry Collection'], grams: [150, 1500] },
] as const;
const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Everyday', 'Heritage', 'Lightweight', 'Modern', 'Nordic', 'Pro', 'Rugged', 'Studio', 'Travel', 'Vintage', 'Urban'];
const MATERIALS = ['Oak', 'Steel', 'Cotton', 'Bamboo', 'Ceramic', 'Copper', 'Linen', 'Walnut', 'Recycled', 'Cast Iron', 'Wool', 'Graphite'];
const FIRST = ['Maya', 'Noah', 'Liam', 'Emma', 'Olivia', 'Lucas', 'Sofia', 'Mateo', 'Amara', 'Kenji', 'Priya', 'Jonas', 'Chloe', 'Omar', 'Ines', 'Tariq', 'Hannah', 'Yusuf'];
const LAST = ['Garcia', 'Nguyen', 'Smith', 'Kowalski', 'Okafor', 'Rossi', 'Tanaka', 'Müller', 'Haddad', 'Silva', 'Johansson', 'Dubois', 'Patel', 'Kim'];
const REVIEW_BODIES = [
  'Exactly as described, would buy again.',
  'Solid quality for the price.',
  'Arrived quickly and works well.',
  'Good, but the finish could be better.',
  'Not what I expected, returned it.',
  'My favourite purchase this year!',
  'Does the job. Nothing special.',
  null,
];

/** Catalog size grows with `scale`: 1 gives 320 products, 100 gives 32,000. */
export function seedPlan(scale = 1): SeedPlan {
  const rnd = random(20261124);
  const epoch = Date.UTC(2026, 0, 1);
  const at = (days: number, minutes = 0) => new Date(epoch + days * 86_400_000 + minutes * 60_000);

  const users: SeedUser[] = DEMO_ACCOUNTS.map((a, i) => ({ id: seedId('user', a.email), ...a, createdAt: at(0, i) }));
  const customers = Math.round(40 * scale);
  for (let n = 1; n <= customers; n++) {
    const name = `${rnd.pick(FIRST)} ${rnd.pick(LAST)}`;
    users.push({ id: seedId('user', n), email: `customer${n}@example.com`, name, role: 'CUSTOMER', password: GENERATED_CUSTOMER_PASSWORD, createdAt: at(1 + (n % 200), n) });
  }

  const categories: SeedCategory[] = CATEGORIES.map((c) => ({ id: seedId('category', c.slug), slug: c.slug, name: c.name }));
  const products: SeedProduct[] = [];
  const productCount = Math.round(320 * scale);
  for (let n = 1; n <= productCount; n++) {
    const c = CATEGORIES[n % CATEGORIES.length]!;
    const name = `${rnd.pick(ADJECTIVES)} ${rnd.pick(MATERIALS)} ${rnd.pick(c.nouns)}`;
    products.push({
      id: seedId('product', n),
      sku: `${c.slug.slice(0, 3).toUpperCase()}-${String(n).padStart(5, '0')}`,
      name,
      description: `The ${name.toLowerCase()}: made to last, from our ${c.name.toLowerCase()} range.`,
      priceAmount: rnd.int(3, 400) * 100 - (rnd.next() < 0.6 ? 1 : 0),
      currency: 'USD',
      stock: rnd.next() < 0.1 ? 0 : rnd.int(1, 250),
      weightGrams: rnd.int(c.grams[0], c.grams[1]),
      categoryId: seedId('category', c.slug),
      createdAt: at(n % 300, n),
    });
  }

  const reviews: SeedReview[] = [];
  const seen = new Set<string>();
  const customerIds = users.filter((u) => u.role === 'CUSTOMER').map((u) => u.id);
  for (let n = 1; n <= productCount * 4; n++) {
    const product = rnd.pick(products);
    const authorId = rnd.pick(customerIds);
    if (seen.has(`${authorId}:${product.id}`)) continue; // one review per user and product
    seen.add(`${authorId}:${product.id}`);
    const rating = Math.min(5, Math.max(1, Math.round(3.8 + (rnd.next() - 0.5) * 4)));
    reviews.push({ id: seedId('review', n), productId: product.id, authorId, rating, body: rnd.pick(REVIEW_BODIES), createdAt: at(300 + (n % 20), n) });
  }

  const orders: SeedOrder[] = [];
  const orderCount = Math.round(30 * scale);
  for (let n = 1; n <= orderCount; n++) {
    const items = new Map<string, SeedOrderItem>();
    for (let k = rnd.int(1, 3); k > 0; k--) {
      const p = rnd.pick(products);
      items.set(p.id, { productId: p.id, quantity: rnd.int(1, 3), unitPriceAmount: p.priceAmount, currency: p.currency });
    }
    // Alice and Bob have a few orders each, so the demo accounts have something to show.
    const userId = n <= 6 ? users[1 + (n % 2)]!.id : rnd.pick(customerIds);
    orders.push({ id: seedId('order', n), userId, status: n % 7 === 0 ? 'CANCELLED' : 'CONFIRMED', createdAt: at(320 + (n % 10), n), items: [...items.values()] });
  }
  return { users, categories, products, reviews, orders };
}
