import { loadGatewayConfig } from '../lib/config.js';
import { runUntilSignal } from '../lib/server/main.js';
import { startGateway } from './server.js';

await runUntilSignal(() => startGateway(loadGatewayConfig()));
