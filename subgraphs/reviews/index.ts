import { loadSubgraphConfig } from '../../lib/config.js';
import { runUntilSignal } from '../../lib/main.js';
import { startSubgraph } from '../../lib/subgraph.js';
import { reviews } from './server.js';

await runUntilSignal(() => startSubgraph(reviews, loadSubgraphConfig('reviews')));
