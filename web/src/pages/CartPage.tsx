// The cart and the checkout. One checkout attempt has one idempotency key: a double click, a
// retry after a lost answer, or a second tab sending the same attempt places one order. A changed
// cart is a new attempt with a new key.
import { useMutation } from '@apollo/client/react';
import { useEffect, useRef, useState } from 'react';
import { PlaceOrderDocument, type PlaceOrderMutation } from '../../../clients/generated/graphql.js';
import { cart, MAX_QUANTITY, useCart } from '../cart.js';
import { formatMoney } from '../format.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { ErrorMessage } from './ErrorMessage.js';
import { OrderSummary } from './OrderSummary.js';

export function CartPage() {
  const lines = useCart();
  const viewer = useSession();
  const [placeOrder, { loading, error, reset }] = useMutation(PlaceOrderDocument);
  const [placed, setPlaced] = useState<PlaceOrderMutation['placeOrder'] | null>(null);
  const attemptKey = useRef<string | null>(null);
  const placing = useRef(false);
  // Any change to the cart starts a new attempt (and clears an old attempt's error).
  useEffect(() => {
    attemptKey.current = null;
    reset();
  }, [lines, reset]);

  const currency = lines[0]?.unitPrice.currency ?? 'USD';
  const total = lines.reduce((sum, l) => sum + l.unitPrice.amount * l.quantity, 0);

  const checkout = async () => {
    // The ref blocks a second click before React has re-rendered the button as disabled.
    if (placing.current || lines.length === 0) return;
    placing.current = true;
    attemptKey.current ??= crypto.randomUUID();
    try {
      const result = await placeOrder({
        variables: { input: { idempotencyKey: attemptKey.current, items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity })) } },
      });
      if (result.data) {
        setPlaced(result.data.placeOrder);
        cart.clear();
      }
    } catch {
      // shown from `error`; the key is kept, so trying again cannot place a second order
    } finally {
      placing.current = false;
    }
  };

  if (placed)
    return (
      <section aria-labelledby="placed-title">
        <h1 id="placed-title">{placed.status === 'CONFIRMED' ? 'Order confirmed' : `Order ${placed.status.toLowerCase()}`}</h1>
        <OrderSummary order={placed} />
        <p>
          <a href={href('/orders')}>See my orders</a> · <a href={href('/')}>Continue shopping</a>
        </p>
      </section>
    );

  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Cart</h1>
      {lines.length === 0 ? (
        <p>
          Your cart is empty. <a href={href('/')}>Browse the products</a>
        </p>
      ) : (
        <>
          <table className="lines">
            <caption className="visually-hidden">Products in the cart</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Unit price</th>
                <th scope="col">Quantity</th>
                <th scope="col">Subtotal</th>
                <th scope="col">
                  <span className="visually-hidden">Remove</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => (
                <tr key={l.productId}>
                  <th scope="row">
                    <a href={href(`/products/${encodeURIComponent(l.productId)}`)}>{l.name}</a>
                  </th>
                  <td>{formatMoney(l.unitPrice)}</td>
                  <td>
                    <input
                      type="number"
                      aria-label={`Quantity of ${l.name}`}
                      min={1}
                      max={MAX_QUANTITY}
                      value={l.quantity}
                      onChange={(e) => cart.setQuantity(l.productId, Number(e.target.value) || 1)}
                    />
                  </td>
                  <td>{formatMoney({ amount: l.unitPrice.amount * l.quantity, currency: l.unitPrice.currency })}</td>
                  <td>
                    <button type="button" className="link" onClick={() => cart.remove(l.productId)}>
                      Remove<span className="visually-hidden"> {l.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="total">
            Total: <strong>{formatMoney({ amount: total, currency })}</strong> <span className="muted">(before shipping; prices are confirmed when you order)</span>
          </p>
          <ErrorMessage error={error} />
          {viewer ? (
            <button type="button" className="primary" onClick={() => void checkout()} disabled={loading} aria-busy={loading}>
              {loading ? 'Placing order…' : 'Place order'}
            </button>
          ) : (
            <p>
              <a href={href('/login', { next: '/cart' })}>Log in</a> or <a href={href('/register', { next: '/cart' })}>register</a> to check out.
            </p>
          )}
        </>
      )}
    </section>
  );
}
