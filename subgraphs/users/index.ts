import { loadSubgraphConfig } from '../../lib/config.js';
import { runUntilSignal } from '../../lib/server/main.js';
import { startSubgraph } from '../../lib/subgraph/server.js';
import { users } from './server.js';

await runUntilSignal(() => startSubgraph(users, loadSubgraphConfig('users')));
