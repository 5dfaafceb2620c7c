// My orders, newest first, a page at a time, each cancellable while it can be, and live: a status
// change (also from another tab or by an administrator) shows without a reload.
import { useQuery, useSubscription } from '@apollo/client/react';
import { useState } from 'react';
import { LiveMyOrdersDocument, MyOrdersDocument } from '../../../clients/generated/graphql.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { ErrorMessage } from './ErrorMessage.js';
import { OrderSummary } from './OrderSummary.js';

const PAGE_SIZE = 10;

export function OrdersPage() {
  const viewer = useSession();
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const { data, loading, error, refetch } = useQuery(MyOrdersDocument, {
    variables: { first: PAGE_SIZE, after },
    skip: !viewer,
    fetchPolicy: 'cache-and-network',
  });
  if (!viewer)
    return (
      <section>
        <h1>My orders</h1>
        <p>
          <a href={href('/login', { next: '/orders' })}>Log in</a> to see your orders.
        </p>
      </section>
    );
  const orders = data?.me?.orders;
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">My orders</h1>
      {/* Keyed by the token: a new viewer subscribes again, on the connection that carries their token. */}
      <LiveOrders key={viewer.token} shown={orders?.edges.map((e) => e.node.id) ?? []} refetch={() => void refetch().catch(() => {})} />
      <ErrorMessage error={error} />
      <p aria-live="polite" className="status">
        {loading && !orders ? 'Loading…' : orders ? `${orders.totalCount} order${orders.totalCount === 1 ? '' : 's'}` : ''}
      </p>
      <ol className="orders">
        {orders?.edges.map(({ node }) => (
          <li key={node.id}>
            <OrderSummary order={node} />
          </li>
        ))}
      </ol>
      <nav aria-label="Pages" className="pager">
        <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))} disabled={!after}>
          Newer orders
        </button>
        <button
          type="button"
          onClick={() => orders?.pageInfo.endCursor && setCursors((c) => [...c, orders.pageInfo.endCursor!])}
          disabled={!orders?.pageInfo.hasNextPage}
        >
          Older orders
        </button>
      </nav>
    </section>
  );
}

/**
 * Watches the viewer's orders. An event for an order on this page updates it in the cache (the
 * Order is normalised by id), which re-renders the list; any other order (a new one) refetches it.
 */
function LiveOrders({ shown, refetch }: { shown: string[]; refetch: () => void }) {
  useSubscription(LiveMyOrdersDocument, {
    ignoreResults: true,
    onData: ({ data }) => {
      const id = data.data?.myOrderUpdates.id;
      if (id && !shown.includes(id)) refetch();
    },
  });
  return null;
}
