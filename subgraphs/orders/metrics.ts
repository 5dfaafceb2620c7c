// The orders service's own metrics, in its registry (lib/telemetry/metrics.ts): how placements
// end, and what recovery did. Names and label values are a contract with the dashboards.
import { Counter } from 'prom-client';
import { serviceMetrics } from '../../lib/telemetry/metrics.js';

/**
 * How a placement ended: confirmed; out_of_stock or refused (catalog refused the items: a client
 * error, nothing held); failed (given up, its stock returned); recovered / released (recovery
 * completed, or gave up and released, an order a crash or an unreachable catalog left pending).
 */
export type SagaOutcome = 'confirmed' | 'out_of_stock' | 'refused' | 'failed' | 'recovered' | 'released';

/** What a recovery pass did, one count per order or reservation settled. */
export type RecoveryAction = 'complete_order' | 'fail_order' | 'release_cancelled' | 'commit_reservation' | 'release_reservation' | 'free_key';

let created: { outcomes: Counter<'outcome'>; recoveryActions: Counter<'action'> } | undefined;

export function ordersMetrics() {
  if (created) return created;
  const registers = [serviceMetrics('orders').registry];
  created = {
    outcomes: new Counter({ name: 'orders_saga_outcomes_total', help: 'Order placements by how they ended', labelNames: ['outcome'], registers }),
    recoveryActions: new Counter({ name: 'orders_recovery_actions_total', help: 'What order recovery settled, by action', labelNames: ['action'], registers }),
  };
  return created;
}

export const countOutcome = (outcome: SagaOutcome) => ordersMetrics().outcomes.inc({ outcome });
export const countRecovery = (action: RecoveryAction, n = 1) => ordersMetrics().recoveryActions.inc({ action }, n);
