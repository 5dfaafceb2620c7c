import { loadSubgraphConfig } from '../../lib/config.js';
import { runUntilSignal } from '../../lib/server/main.js';
import { startSubgraph } from '../../lib/subgraph/server.js';
import { orders } from './server.js';

await runUntilSignal(() => startSubgraph(orders, loadSubgraphConfig('orders')));
