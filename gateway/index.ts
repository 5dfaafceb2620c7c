// Starts the gateway from the environment (npm run start:gateway, the container), until a signal stops it.
import { loadGatewayConfig } from '../lib/config.js';
import { runUntilSignal } from '../lib/server/main.js';
import { startGateway } from './server.js';

await runUntilSignal(() => startGateway(loadGatewayConfig()));
