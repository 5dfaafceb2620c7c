// One product: price, stock, shipping estimate, rating and reviews; add it to the cart; review it.
// Name, price and stock show first; the shipping estimate and the reviews are deferred (@defer in
// ProductPage.graphql) and fill in as each arrives.
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { AddReviewDocument, ProductPageDocument, type ProductPageQuery } from '../../../clients/generated/graphql.js';
import { cart, MAX_QUANTITY } from '../cart.js';
import { formatDate, formatMoney, formatRating } from '../format.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { ErrorMessage } from './ErrorMessage.js';

export function ProductPage({ id }: { id: string }) {
  const { data, loading, error } = useQuery(ProductPageDocument, { variables: { id } });
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState('');
  if (loading && !data) return <p aria-live="polite">Loading…</p>;
  const product = data?.product;
  if (!product)
    return (
      <section>
        <h1>Product not found</h1>
        <ErrorMessage error={error} />
        <p>
          <a href={href('/')}>Back to the products</a>
        </p>
      </section>
    );

  const addToCart = (event: FormEvent) => {
    event.preventDefault();
    cart.add({ productId: product.id, name: product.name, unitPrice: product.price }, quantity);
    setAdded(`Added ${quantity} × ${product.name} to the cart.`);
  };

  return (
    <article aria-labelledby="product-title">
      <p>
        <a href={href('/', { category: product.category.id })}>{product.category.name}</a>
      </p>
      <h1 id="product-title">{product.name}</h1>
      <ErrorMessage error={error} />
      <p className="price">{formatMoney(product.price)}</p>
      {product.description && <p>{product.description}</p>}
      <dl className="facts">
        <dt>SKU</dt>
        <dd>{product.sku}</dd>
        <dt>Availability</dt>
        <dd>{product.inStock ? `In stock (${product.stock})` : 'Out of stock'}</dd>
        <dt>Shipping</dt>
        <dd aria-busy={!('shippingEstimate' in product)}>
          {!('shippingEstimate' in product)
            ? 'Estimating…'
            : product.shippingEstimate
              ? `${formatMoney(product.shippingEstimate)} standard shipping`
              : 'Estimate unavailable'}
        </dd>
        <dt>Rating</dt>
        <dd aria-busy={!('reviews' in product)}>
          {'reviews' in product ? (
            <>
              {formatRating(product.averageRating ?? null)}
              {product.reviewCount ? ` from ${product.reviewCount} review${product.reviewCount === 1 ? '' : 's'}` : ''}
            </>
          ) : (
            'Loading…'
          )}
        </dd>
      </dl>
      {product.inStock && (
        <form className="add" onSubmit={addToCart}>
          <label>
            Quantity
            <input
              type="number"
              min={1}
              max={Math.min(MAX_QUANTITY, product.stock)}
              value={quantity}
              onChange={(e) => setQuantity(Math.max(1, Math.min(MAX_QUANTITY, Number(e.target.value) || 1)))}
            />
          </label>
          <button type="submit">Add to cart</button>
        </form>
      )}
      <p aria-live="polite" className="ok">
        {added && (
          <>
            {added} <a href={href('/cart')}>Go to the cart</a>
          </>
        )}
      </p>
      <Reviews productId={product.id} reviews={'reviews' in product ? product.reviews : undefined} />
    </article>
  );
}

/** The reviews connection as ProductPage returns it once its deferred part arrived; undefined until then. */
type ProductReviews = Extract<NonNullable<ProductPageQuery['product']>, { reviews: unknown }>['reviews'] | undefined;

function Reviews({ productId, reviews }: { productId: string; reviews: ProductReviews }) {
  const viewer = useSession();
  const [addReview, { loading, error, data }] = useMutation(AddReviewDocument, {
    // The product page is a public read the browser may hold for a minute (Cache-Control): the
    // shopper's own review must show at once, so this read skips the browser's HTTP cache.
    refetchQueries: [{ query: ProductPageDocument, variables: { id: productId }, context: { fetchOptions: { cache: 'no-cache' } } }],
    awaitRefetchQueries: true,
  });
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const body = String(form.get('body') ?? '').trim();
    await addReview({ variables: { input: { productId, rating: Number(form.get('rating')), body: body || null } } }).catch(() => {});
  };
  return (
    <section aria-labelledby="reviews-title">
      <h2 id="reviews-title">Reviews</h2>
      {reviews === undefined ? (
        <p aria-busy="true">Loading reviews…</p>
      ) : reviews?.edges.length ? (
        <ul className="reviews">
          {reviews.edges.map(({ node: r }) => (
            <li key={r.id}>
              <p>
                <strong aria-label={`${r.rating} out of 5`}>{'★'.repeat(r.rating) + '☆'.repeat(5 - r.rating)}</strong> by {r.author?.name ?? 'a customer'},{' '}
                <time dateTime={r.createdAt}>{formatDate(r.createdAt)}</time>
              </p>
              {r.body && <p>{r.body}</p>}
            </li>
          ))}
        </ul>
      ) : (
        <p>No reviews yet.</p>
      )}
      {viewer ? (
        data ? (
          <p className="ok" role="status">
            Thank you for your review.
          </p>
        ) : (
          <form className="review" onSubmit={(e) => void submit(e)}>
            <h3>Write a review</h3>
            <label>
              Rating
              <select name="rating" defaultValue="5">
                {[5, 4, 3, 2, 1].map((n) => (
                  <option key={n} value={n}>
                    {n} star{n === 1 ? '' : 's'}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Review
              <textarea name="body" maxLength={2000} rows={4} />
            </label>
            <ErrorMessage error={error} />
            <button type="submit" disabled={loading}>
              Post review
            </button>
          </form>
        )
      ) : (
        <p>
          <a href={href('/login')}>Log in</a> to write a review.
        </p>
      )}
    </section>
  );
}
