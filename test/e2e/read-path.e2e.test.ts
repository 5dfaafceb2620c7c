// The read path and accounts through the gateway, on every available database.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_ACCOUNTS } from '../../prisma/seed-data.js';
import { describeOnBackends, operation, startStack, type Stack } from '../support/harness.js';

const [admin, alice, bob] = DEMO_ACCOUNTS;

await describeOnBackends('read path on %s', (backend) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(backend);
  });
  afterAll(() => stack?.stop());

  const productList = (variables: Record<string, unknown>) => stack.request(operation('ProductList'), variables);

  it('lists products newest first by default and pages with cursors without gaps or repeats', async () => {
    const first = await productList({ first: 30 });
    expect(first.errors).toBeUndefined();
    const all = first.data!.products;
    expect(all.totalCount).toBe(80);
    const page1 = await productList({ first: 10 });
    const page2 = await productList({ first: 10, after: page1.data!.products.pageInfo.endCursor });
    const ids = [...page1.data!.products.edges, ...page2.data!.products.edges].map((e: any) => e.node.id);
    expect(ids).toEqual(all.edges.slice(0, 20).map((e: any) => e.node.id));
    expect(page2.data!.products.edges[0].cursor).not.toBe(page1.data!.products.pageInfo.endCursor);
    expect(page1.data!.products.pageInfo.hasNextPage).toBe(true);
  });

  it.each([
    ['NAME', 'ASC'],
    ['NAME', 'DESC'],
    ['PRICE', 'ASC'],
    ['PRICE', 'DESC'],
    ['CREATED_AT', 'ASC'],
  ])('orders by %s %s across pages', async (field, direction) => {
    const seen: any[] = [];
    let after: string | null = null;
    for (let page = 0; page < 4; page++) {
      const res: any = await productList({ first: 25, after, orderBy: { field, direction } });
      expect(res.errors).toBeUndefined();
      seen.push(...res.data.products.edges.map((e: any) => e.node));
      after = res.data.products.pageInfo.endCursor;
      if (!res.data.products.pageInfo.hasNextPage) break;
    }
    expect(seen).toHaveLength(80);
    expect(new Set(seen.map((n) => n.id)).size).toBe(80);
    const key = (n: any) => (field === 'PRICE' ? n.price.amount : n.name);
    if (field !== 'CREATED_AT') {
      const sorted = [...seen].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (direction === 'ASC' ? 1 : -1));
      expect(seen.map(key)).toEqual(sorted.map(key));
    }
  });

  it('filters by category, search, price range and stock', async () => {
    const categories = (await stack.request('{ categories { id slug } }')).data!.categories;
    const kitchen = categories.find((c: any) => c.slug === 'kitchen');
    const byCategory = await productList({ first: 100, filter: { categoryId: kitchen.id } });
    expect(byCategory.data!.products.totalCount).toBe(10);
    expect(byCategory.data!.products.edges.every((e: any) => e.node.category.slug === 'kitchen')).toBe(true);

    const search = await productList({ first: 100, filter: { search: 'OAK' } });
    expect(search.data!.products.totalCount).toBeGreaterThan(0);
    expect(search.data!.products.edges.every((e: any) => /oak/i.test(e.node.name) || /oak/i.test(e.node.sku))).toBe(true);
    const bySku = await productList({ first: 5, filter: { search: 'kit-0000' } });
    expect(bySku.data!.products.edges.map((e: any) => e.node.sku)).toEqual(expect.arrayContaining(['KIT-00008']));

    const range = await productList({ first: 100, filter: { minPrice: 10000, maxPrice: 20000 } });
    const prices = range.data!.products.edges.map((e: any) => e.node.price.amount);
    expect(prices.length).toBeGreaterThan(0);
    expect(prices.every((p: number) => p >= 10000 && p <= 20000)).toBe(true);

    const inStock = await productList({ first: 100, filter: { inStock: true } });
    const outOfStock = await productList({ first: 100, filter: { inStock: false } });
    expect(inStock.data!.products.edges.every((e: any) => e.node.inStock)).toBe(true);
    expect(outOfStock.data!.products.edges.every((e: any) => !e.node.inStock)).toBe(true);
    expect(inStock.data!.products.totalCount + outOfStock.data!.products.totalCount).toBe(80);
  });

  it('rejects a page size over 100, a forged cursor and a cursor of another ordering with BAD_USER_INPUT', async () => {
    const big = await productList({ first: 101 });
    expect(big.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const forged = await productList({ first: 5, after: 'not-a-cursor' });
    expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const byName = await productList({ first: 5, orderBy: { field: 'NAME', direction: 'ASC' } });
    const mixed = await productList({ first: 5, after: byName.data!.products.pageInfo.endCursor, orderBy: { field: 'PRICE', direction: 'ASC' } });
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('shows a product with its category, reviews, their authors, rating and shipping estimate', async () => {
    const list = await productList({ first: 50, orderBy: { field: 'PRICE', direction: 'ASC' } });
    const reviewed = list.data!.products.edges.map((e: any) => e.node).find((n: any) => n.reviewCount >= 2);
    const res = await stack.request(operation('ProductDetail'), { id: reviewed.id, reviewsFirst: 1 });
    expect(res.errors).toBeUndefined();
    const p = res.data!.product;
    expect(p.reviewCount).toBe(reviewed.reviewCount);
    expect(p.reviews.totalCount).toBe(reviewed.reviewCount);
    expect(p.reviews.edges).toHaveLength(1);
    expect(p.reviews.edges[0].node.author.name).toEqual(expect.any(String));
    expect(p.shippingEstimate.currency).toBe(p.price.currency);
    expect(p.shippingEstimate.amount).toBe(p.price.amount >= 10000 ? 0 : 499 + Math.ceil(Math.max(0, p.weightGrams - 500) / 500) * 150);
    const next = await stack.request(operation('ProductDetail'), { id: reviewed.id, reviewsFirst: 1, reviewsAfter: p.reviews.pageInfo.endCursor });
    expect(next.data!.product.reviews.edges[0].node.id).not.toBe(p.reviews.edges[0].node.id);
  });

  it('answers HomeFeed, CategoryProducts and ProductBySku', async () => {
    const home = await stack.request(operation('HomeFeed'), {});
    expect(home.errors).toBeUndefined();
    expect(home.data!.categories).toHaveLength(8);
    expect(home.data!.products.edges).toHaveLength(20);
    const category = await stack.request(operation('CategoryProducts'), { slug: 'audio', first: 3 });
    expect(category.data!.category.products.totalCount).toBe(10);
    expect(category.data!.category.products.edges).toHaveLength(3);
    const sku = await stack.request(operation('ProductBySku'), { sku: 'KIT-00008' });
    expect(sku.data!.productBySku).toMatchObject({ inStock: expect.any(Boolean), reviewCount: expect.any(Number) });
  });

  it('gives null for unknown ids, never a crash', async () => {
    const nope = '00000000-0000-4000-8000-000000000000';
    const res = await stack.request(`{ product(id: "${nope}") { id } productBySku(sku: "nope") { id } category(slug: "nope") { id } user(id: "${nope}") { id } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ product: null, productBySku: null, category: null, user: null });
  });

  it('registers, logs in and answers Me with the own email and orders', async () => {
    const email = `new-${backend}@example.com`;
    const reg = await stack.request(operation('Register'), { input: { email: email.toUpperCase(), password: 'correct horse', name: 'New Person' } });
    expect(reg.errors).toBeUndefined();
    expect(reg.data!.register.user).toMatchObject({ email, role: 'CUSTOMER', name: 'New Person' });
    const again = await stack.request(operation('Register'), { input: { email, password: 'correct horse', name: 'Twice' } });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const short = await stack.request(operation('Register'), { input: { email: 'x@example.com', password: 'short', name: 'X' } });
    expect(short.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });

    const login = await stack.request(operation('Login'), { email, password: 'correct horse' });
    expect(login.data!.login.user.email).toBe(email);
    const wrong = await stack.request(operation('Login'), { email, password: 'wrong password' });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const token = await stack.login(alice.email, alice.password);
    const me = await stack.request(operation('Me'), {}, token);
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toMatchObject({ email: alice.email, role: 'CUSTOMER' });
    expect(me.data!.me.orders.totalCount).toBeGreaterThan(0);
    expect(me.data!.me.orders.edges[0].node.items[0].product.name).toEqual(expect.any(String));
    expect(me.data!.me.reviews.length).toBeGreaterThan(0);
    expect((await stack.request(operation('Me'), {})).data!.me).toBeNull();
  });

  it("shows an order to its owner and to admins, never to another customer", async () => {
    const aliceToken = await stack.login(alice.email, alice.password);
    const me = await stack.request('{ me { id orders(first: 1) { edges { node { id } } } } }', {}, aliceToken);
    const orderId = me.data!.me.orders.edges[0].node.id;
    const own = await stack.request(operation('OrderDetail'), { id: orderId }, aliceToken);
    expect(own.errors).toBeUndefined();
    expect(own.data!.order).toMatchObject({ id: orderId, user: { id: me.data!.me.id, name: 'Alice Example' } });
    expect(own.data!.order.items[0].product.sku).toEqual(expect.any(String));

    const bobs = await stack.request(operation('OrderDetail'), { id: orderId }, await stack.login(bob.email, bob.password));
    expect(bobs.data?.order ?? null).toBeNull();
    expect(bobs.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const admins = await stack.request(operation('OrderDetail'), { id: orderId }, await stack.login(admin.email, admin.password));
    expect(admins.data!.order.id).toBe(orderId);
    const anonymous = await stack.request(operation('OrderDetail'), { id: orderId });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    const unknown = await stack.request(operation('OrderDetail'), { id: '00000000-0000-4000-8000-000000000000' }, aliceToken);
    expect(unknown.data!.order).toBeNull();
  });

  it("hides other users' email", async () => {
    const token = await stack.login(bob.email, bob.password);
    const aliceId = (await stack.request('{ me { id } }', {}, await stack.login(alice.email, alice.password))).data!.me.id;
    const res = await stack.request('query($id: ID!) { user(id: $id) { name email } }', { id: aliceId }, token);
    expect(res.data!.user).toEqual({ name: 'Alice Example', email: null });
  });

  it('runs the same number of SQL statements per subgraph for 10 and for 50 products with reviews and authors (no N+1)', async () => {
    const query = `query($first: Int!) { products(first: $first, orderBy: { field: PRICE, direction: ASC }) {
      totalCount edges { node { id name category { name } averageRating reviewCount
        reviews(first: 5) { totalCount edges { node { rating author { name } product { name } } } } } } } }`;
    const count = async (first: number) => {
      const before = stack.statements();
      const res = await stack.request(query, { first });
      expect(res.errors).toBeUndefined();
      expect(res.data!.products.edges).toHaveLength(first);
      const after = stack.statements();
      return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
    };
    const ten = await count(10);
    const fifty = await count(50);
    expect(fifty).toEqual(ten);
    expect(fifty.reviews).toBeGreaterThan(0);
  });

  it("reads every category's page of products in one statement, however many categories (no N+1)", async () => {
    const query = '{ categories { name products(first: 3) { totalCount edges { cursor node { name price { amount } } } } } }';
    const before = stack.statements().catalog;
    const res = await stack.request(query);
    expect(res.errors).toBeUndefined();
    const categories = res.data!.categories as { products: { totalCount: number; edges: { cursor: string }[] } }[];
    expect(categories.length).toBeGreaterThan(3);
    // The categories, their pages, their counts: three statements for all of them.
    expect(stack.statements().catalog - before).toBe(3);
    // The next page of one category continues after its cursor, still newest first.
    const [first] = categories;
    const slug = (await stack.request('{ categories { slug } }')).data!.categories[0].slug;
    const next = await stack.request('query($slug: String!, $after: String) { category(slug: $slug) { products(first: 3, after: $after) { edges { node { name } } } } }', {
      slug,
      after: first!.products.edges.at(-1)!.cursor,
    });
    expect(next.errors).toBeUndefined();
    const whole = await stack.request('query($slug: String!) { category(slug: $slug) { products(first: 6) { edges { node { name } } } } }', { slug });
    expect(next.data!.category.products.edges).toEqual(whole.data!.category.products.edges.slice(3));
  });
});
