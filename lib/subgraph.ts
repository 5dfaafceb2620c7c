// Starts a subgraph: opens (migrates, seeds) its database and serves its schema. The same path runs
// under `npm start`, alone (`npm run start:<name>`), in tests and in containers.
import { Tokens } from './auth.js';
import type { SubgraphConfig } from './config.js';
import { openDatabase, type ClientFactory, type Database, type PrismaLike } from './database.js';
import type { RunningServer } from './graphql-server.js';
import { createLogger, type Logger } from './logger.js';
import { startSubgraphServer, type BaseContext, type SubgraphDefinition } from './subgraph-server.js';

export interface SubgraphModule<D extends PrismaLike, C extends BaseContext> {
  createClient: ClientFactory<D>;
  /** Inserts the demo data when the database is empty; a no-op otherwise. */
  seed(db: D, scale: number, log: Logger): Promise<void>;
  define(db: D, runtime: { config: SubgraphConfig; tokens: Tokens; logger: Logger }): SubgraphDefinition<C> & { close?(): Promise<void> };
}

export interface RunningSubgraph<D> extends RunningServer {
  db: Database<D>;
}

export async function startSubgraph<D extends PrismaLike, C extends BaseContext>(
  module: SubgraphModule<D, C>,
  config: SubgraphConfig,
  logger: Logger = createLogger(config.name, config.logLevel),
): Promise<RunningSubgraph<D>> {
  const db = await openDatabase({ name: config.name, url: config.databaseUrl, dataDir: config.dataDir, logger }, module.createClient);
  try {
    if (config.seed) await module.seed(db.client, config.seedScale, logger);
    const tokens = new Tokens(config.jwtSecret);
    const definition = module.define(db.client, { config, tokens, logger });
    const server = await startSubgraphServer(definition, {
      port: config.port,
      tokens,
      logger,
      production: config.production,
      ready: db.ping,
      close: async () => {
        await definition.close?.();
        await db.close();
      },
    });
    return { ...server, db };
  } catch (err) {
    await db.close();
    throw err;
  }
}
