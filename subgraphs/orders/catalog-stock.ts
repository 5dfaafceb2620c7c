// The orders service's calls to catalog's internal stock operations, made with a service token.
import type { Tokens } from '../../lib/security/auth.js';
import { callService } from '../../lib/subgraph/service-client.js';

export interface Reservation {
  orderId: string;
  status: 'RESERVED' | 'COMMITTED' | 'RELEASED';
  createdAt: string;
  lines: { productId: string; quantity: number; unitPrice: { amount: number; currency: string } }[];
}

const FIELDS = 'orderId status createdAt lines { productId quantity unitPrice { amount currency } }';

export type CatalogStock = ReturnType<typeof catalogStock>;

/**
 * How long orders waits for catalog. Reserving and releasing get longer than the rest: under a rush
 * a healthy catalog answers them late rather than never, and every reservation given up for being
 * late is work undone (the placement then releases, so that a late reservation takes nothing).
 */
export const CATALOG_TIMEOUTS = { stockMs: 15_000, otherMs: 5_000 };

export function catalogStock(catalogUrl: string, tokens: Tokens, timeouts = CATALOG_TIMEOUTS) {
  const call = async <T>(query: string, variables: Record<string, unknown>, requestId?: string, timeoutMs = timeouts.otherMs) =>
    callService<T>('catalog', catalogUrl, { query, variables, requestId, timeoutMs, authorization: `Bearer ${await tokens.signService('orders')}` });

  return {
    reserve: async (orderId: string, items: { productId: string; quantity: number }[], requestId?: string) =>
      (await call<{ reserveStock: Reservation }>(
        `mutation Reserve($orderId: ID!, $items: [ReservationItemInput!]!) { reserveStock(orderId: $orderId, items: $items) { ${FIELDS} } }`,
        { orderId, items },
        requestId,
        timeouts.stockMs,
      )).reserveStock,
    commit: async (orderId: string, requestId?: string) =>
      (await call<{ commitStock: Reservation }>(`mutation Commit($orderId: ID!) { commitStock(orderId: $orderId) { ${FIELDS} } }`, { orderId }, requestId)).commitStock,
    release: async (orderId: string, requestId?: string) =>
      (await call<{ releaseStock: Reservation }>(`mutation Release($orderId: ID!) { releaseStock(orderId: $orderId) { ${FIELDS} } }`, { orderId }, requestId, timeouts.stockMs))
        .releaseStock,
    find: async (orderId: string) =>
      (await call<{ reservation: Reservation | null }>(`query Find($orderId: ID!) { reservation(orderId: $orderId) { ${FIELDS} } }`, { orderId })).reservation,
    stale: async (olderThanSeconds: number) =>
      (await call<{ staleReservations: Reservation[] }>(
        `query Stale($s: Int!) { staleReservations(olderThanSeconds: $s) { ${FIELDS} } }`,
        { s: olderThanSeconds },
      )).staleReservations,
  };
}
