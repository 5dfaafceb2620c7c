// A whole stack (four subgraphs and the gateway, PGlite) in a process of its own, configured by
// its environment (e.g. OTEL_*): prints {"gatewayUrl": ...} on its first line, stops on SIGTERM.
// The benchmark compares two of them, one traced, one not (tracing is per process).
import { startStack } from './harness.js';

const stack = await startStack('pglite');
process.stdout.write(`${JSON.stringify({ gatewayUrl: stack.gatewayUrl })}\n`);
process.once('SIGTERM', () => {
  void stack.stop().finally(() => process.exit(0));
});

