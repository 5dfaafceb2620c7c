// Browse: search, filter by category, price and availability, sort, and page by cursor. The
// filters live in the address (#/?q=…), so a search can be bookmarked and Back restores it.
import { useQuery } from '@apollo/client/react';
import { useRef, type FormEvent } from 'react';
import { CategoriesDocument, ProductListDocument, type ProductFilter, type ProductOrder } from '../../../clients/generated/graphql.js';
import { formatMoney, formatRating } from '../format.js';
import { href, navigate, useLocation } from '../router.js';
import { ErrorMessage } from './ErrorMessage.js';

const PAGE_SIZE = 12;
const SORTS: Record<string, { label: string; order?: ProductOrder }> = {
  newest: { label: 'Newest' },
  'price-asc': { label: 'Price, low to high', order: { field: 'PRICE', direction: 'ASC' } },
  'price-desc': { label: 'Price, high to low', order: { field: 'PRICE', direction: 'DESC' } },
  name: { label: 'Name', order: { field: 'NAME', direction: 'ASC' } },
};

/** Dollars typed by the shopper, in the API's minor units; blank or invalid means no bound. */
const toMinor = (text: string | null) => {
  const n = Number(text);
  return text && Number.isFinite(n) && n >= 0 ? Math.round(n * 100) : undefined;
};

export function ProductListPage() {
  const { params } = useLocation();
  const sort = SORTS[params.get('sort') ?? ''] ? params.get('sort')! : 'newest';
  const filter: ProductFilter = {
    search: params.get('q') || undefined,
    categoryId: params.get('category') || undefined,
    minPrice: toMinor(params.get('min')),
    maxPrice: toMinor(params.get('max')),
    inStock: params.get('instock') === '1' ? true : undefined,
  };
  const after = params.get('after') || undefined;
  const categories = useQuery(CategoriesDocument);
  const { data, previousData, loading, error } = useQuery(ProductListDocument, {
    variables: { first: PAGE_SIZE, after, filter, orderBy: SORTS[sort]!.order },
  });
  const products = (data ?? previousData)?.products;
  // Cursors of the pages before this one, for "Previous page"; a new search starts over.
  const previous = useRef<string[]>([]);

  const search = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const get = (name: string) => String(form.get(name) ?? '').trim() || undefined;
    previous.current = [];
    navigate('/', { q: get('q'), category: get('category'), min: get('min'), max: get('max'), instock: form.get('instock') ? '1' : undefined, sort: get('sort') });
  };
  const current = Object.fromEntries([...params].filter(([k]) => k !== 'after'));
  const next = () => {
    previous.current.push(after ?? '');
    navigate('/', { ...current, after: products?.pageInfo.endCursor ?? undefined });
  };
  const back = () => navigate('/', { ...current, after: previous.current.pop() || undefined });

  return (
    <section aria-labelledby="products-title">
      <h1 id="products-title">Products</h1>
      {/* key: the form's fields start from the address whenever it changes (Back, a link). */}
      <form role="search" className="filters" onSubmit={search} key={params.toString()}>
        <label>
          Search
          <input type="search" name="q" defaultValue={params.get('q') ?? ''} placeholder="Name, description or SKU" />
        </label>
        <label>
          Category
          <select name="category" defaultValue={params.get('category') ?? ''}>
            <option value="">All categories</option>
            {categories.data?.categories.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Min price
          <input type="number" name="min" min="0" step="0.01" inputMode="decimal" defaultValue={params.get('min') ?? ''} />
        </label>
        <label>
          Max price
          <input type="number" name="max" min="0" step="0.01" inputMode="decimal" defaultValue={params.get('max') ?? ''} />
        </label>
        <label className="inline">
          <input type="checkbox" name="instock" defaultChecked={params.get('instock') === '1'} /> In stock only
        </label>
        <label>
          Sort by
          <select name="sort" defaultValue={sort}>
            {Object.entries(SORTS).map(([value, { label }]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={error ?? categories.error} />
      <p aria-live="polite" className="status">
        {loading ? 'Loading…' : products ? `${products.totalCount} product${products.totalCount === 1 ? '' : 's'}` : ''}
      </p>
      <ul className="grid" aria-busy={loading}>
        {products?.edges.map(({ node: p }) => (
          <li key={p.id} className="card">
            <h2>
              <a href={href(`/products/${encodeURIComponent(p.id)}`)}>{p.name}</a>
            </h2>
            <p className="price">{formatMoney(p.price)}</p>
            <p className="muted">
              {p.category.name} · {formatRating(p.averageRating)}
              {p.reviewCount ? ` (${p.reviewCount})` : ''}
            </p>
            <p className={p.inStock ? 'ok' : 'muted'}>{p.inStock ? 'In stock' : 'Out of stock'}</p>
          </li>
        ))}
      </ul>
      <nav aria-label="Pages" className="pager">
        <button type="button" onClick={back} disabled={!after}>
          Previous page
        </button>
        <button type="button" onClick={next} disabled={!products?.pageInfo.hasNextPage}>
          Next page
        </button>
      </nav>
    </section>
  );
}
