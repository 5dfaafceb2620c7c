// One order's status, lines and total, with "Cancel order" while it can still be cancelled.
import { useMutation } from '@apollo/client/react';
import { CancelOrderDocument, type OrderStatus } from '../../../clients/generated/graphql.js';
import { formatDate, formatMoney } from '../format.js';
import { ErrorMessage } from './ErrorMessage.js';

interface Money {
  amount: number;
  currency: string;
}
export interface OrderView {
  id: string;
  status: OrderStatus;
  createdAt?: string;
  total: Money;
  items: { quantity: number; unitPrice: Money; product?: { id: string; name: string } | null }[];
}

export function OrderSummary({ order }: { order: OrderView }) {
  // The answer also updates the order in the cache, so the order list shows it cancelled too.
  const [cancel, { loading, error, data }] = useMutation(CancelOrderDocument, { variables: { id: order.id } });
  const status = data?.cancelOrder.status ?? order.status;
  return (
    <div className="order">
      <p>
        Order <code>{order.id}</code>
        {order.createdAt && (
          <>
            {' '}
            of <time dateTime={order.createdAt}>{formatDate(order.createdAt)}</time>
          </>
        )}
        : <strong className={`status status-${status.toLowerCase()}`}>{status}</strong>
      </p>
      <ul>
        {order.items.map((item, i) => (
          <li key={item.product?.id ?? i}>
            {item.quantity} × {item.product?.name ?? 'a product'} at {formatMoney(item.unitPrice)}
          </li>
        ))}
      </ul>
      <p>
        Total: <strong>{formatMoney(order.total)}</strong>
      </p>
      <ErrorMessage error={error} />
      {(status === 'CONFIRMED' || status === 'PENDING') && (
        <button type="button" onClick={() => void cancel().catch(() => {})} disabled={loading}>
          Cancel order<span className="visually-hidden"> {order.id}</span>
        </button>
      )}
    </div>
  );
}
