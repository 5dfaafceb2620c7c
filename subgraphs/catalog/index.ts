import { loadSubgraphConfig } from '../../lib/config.js';
import { runUntilSignal } from '../../lib/main.js';
import { startSubgraph } from '../../lib/subgraph.js';
import { catalog } from './server.js';

await runUntilSignal(() => startSubgraph(catalog, loadSubgraphConfig('catalog')));
