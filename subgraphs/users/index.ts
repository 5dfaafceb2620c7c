import { loadSubgraphConfig } from '../../lib/config.js';
import { runUntilSignal } from '../../lib/main.js';
import { startSubgraph } from '../../lib/subgraph.js';
import { users } from './server.js';

await runUntilSignal(() => startSubgraph(users, loadSubgraphConfig('users')));
