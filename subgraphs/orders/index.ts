import { loadSubgraphConfig } from '../../lib/config.js';
import { runUntilSignal } from '../../lib/main.js';
import { startSubgraph } from '../../lib/subgraph.js';
import { orders } from './server.js';

await runUntilSignal(() => startSubgraph(orders, loadSubgraphConfig('orders')));
