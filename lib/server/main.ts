// Entry-point glue: run a server until SIGINT/SIGTERM, then stop it gracefully.
import type { RunningServer } from './graphql-server.js';

export async function runUntilSignal(start: () => Promise<RunningServer>): Promise<void> {
  let server: RunningServer;
  try {
    server = await start();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  // Tells a launcher that spawned this process (`npm start`) to check readiness now, instead of
  // polling while this process starts; then lets go of the channel.
  process.send?.('started', () => process.disconnect());
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Finish the requests in flight, then release the database; a second signal is ignored.
    const timer = setTimeout(() => process.exit(1), 10_000).unref();
    await server.close().catch((err) => console.error(`${signal}: ${err}`));
    clearTimeout(timer);
    process.exit(0);
  };
  // stop never rejects (a failed close is logged, then the process exits either way).
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));
}
