// One home for database access: opens a subgraph's Prisma client on the embedded PGlite database
// (default, on disk under the data folder) or on PostgreSQL (when a URL is given), applies its
// pending migrations, and counts the SQL statements it runs (the N+1 test reads that count).
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { EventChannel, pgliteNotifications, postgresNotifications, redisNotifications, type Notifications } from '../subgraph/events.js';
import type { Logger } from '../logger.js';
import { outboxHistory, outboxPublisher, type Outbox, type RawSql } from '../subgraph/outbox.js';
import { applyMigrations, migratedTemplate, migrationsUpToDate } from './migrations.js';
import { openPGlite, templateExists } from './pglite.js';
import type { ServiceName } from '../services.js';
import { serviceMetrics } from '../telemetry/metrics.js';

/** What every generated Prisma client offers, so this module serves all four. */
export interface PrismaLike {
  $on(event: 'query', callback: (event: { query: string; duration: number }) => void): void;
  $queryRawUnsafe(query: string): Promise<unknown>;
  $disconnect(): Promise<void>;
}

export type ClientFactory<C> = (adapter: SqlMigrationAwareDriverAdapterFactory) => C;

export interface DatabaseOptions {
  name: ServiceName;
  /** PostgreSQL URL; without one, the embedded PGlite database is used. */
  url?: string | undefined;
  /** Folder of the embedded databases; without one, PGlite keeps the data in memory. */
  dataDir?: string | undefined;
  /** Redis to carry change events; without it, the database's own LISTEN/NOTIFY does. */
  redis?: { url: string; keyPrefix: string } | undefined;
  /** The database has an outbox table ("OutboxEvent"): publish its events (lib/subgraph/outbox.ts). */
  outbox?: boolean;
  logger: Logger;
}

export interface Database<C> {
  client: C;
  kind: 'pglite' | 'postgres';
  /** Number of SQL statements run since the database was opened. */
  statements(): number;
  /** Change events of this database, to every replica of the subgraph (lib/subgraph/events.ts). */
  events: EventChannel;
  /** Publishes the events written to this database's outbox; a no-op for a database without one. */
  outbox: Pick<Outbox, 'wake' | 'drain'>;
  /** Throws when the database cannot answer (readiness check). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The SQLSTATE of a statement the database refused (e.g. `23505`), as Prisma reports it through
 * either driver adapter, for model queries and raw SQL alike.
 */
export function sqlState(err: unknown): string | undefined {
  const cause = (err as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } })?.meta?.driverAdapterError?.cause;
  return typeof cause?.originalCode === 'string' ? cause.originalCode : undefined;
}

/** A unique index refused the row (Prisma's P2002 for model queries, SQLSTATE 23505 for raw SQL). */
export const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === 'P2002' || sqlState(err) === '23505';

/**
 * The database refused the data itself (SQLSTATE class 22, data exception: a value out of range;
 * class 23, a constraint): writing the same data again can never succeed.
 */
export const isDataError = (err: unknown) => /^2[23]/.test(sqlState(err) ?? '');

/** The driver adapter for a subgraph's database: PostgreSQL when a URL is given, else PGlite. */
export async function openAdapter(options: Omit<DatabaseOptions, 'logger'>) {
  const { name, url, dataDir } = options;
  if (url) {
    const pool = new pg.Pool({ connectionString: url });
    const adapter: SqlMigrationAwareDriverAdapterFactory = new PrismaPg(pool);
    const notifications = (log: Logger): Notifications => postgresNotifications(url, pool, log);
    const sql: RawSql = { query: async <R,>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as R[] };
    return { adapter, kind: 'postgres' as const, notifications, sql, close: () => pool.end() };
  }
  // A new database starts from the migrated template, or on disk, until that has been made (a first
  // start), from the empty one: the migrations below then run once, where making the template first
  // would start PostgreSQL twice.
  const migrated = await migratedTemplate(name);
  const pglite = await openPGlite(dataDir ? path.join(dataDir, name) : undefined, !dataDir || templateExists(migrated) ? migrated : undefined);
  const notifications = (): Notifications => pgliteNotifications(pglite);
  const sql: RawSql = { query: async <R,>(text: string, params?: unknown[]) => (await pglite.query<R>(text, params)).rows };
  return { adapter: new PrismaPGlite(pglite) as SqlMigrationAwareDriverAdapterFactory, kind: 'pglite' as const, notifications, sql, close: () => pglite.close() };
}

export async function openDatabase<C extends PrismaLike>(options: DatabaseOptions, createClient: ClientFactory<C>): Promise<Database<C>> {
  const { adapter, kind, notifications, sql, close } = await openAdapter(options);
  const client = createClient(adapter);
  // Starting Prisma's schema engine costs most of a warm start; ask it only when there is work.
  if (!(await migrationsUpToDate(options.name, (sql) => client.$queryRawUnsafe(sql)))) {
    const applied = await applyMigrations(options.name, adapter);
    if (applied.length > 0) options.logger.info({ migrations: applied }, 'applied migrations');
  }
  let statements = 0;
  const latency = serviceMetrics(options.name).dbStatementDuration;
  client.$on('query', ({ duration }) => {
    statements += 1;
    latency.observe(duration / 1000); // Prisma gives milliseconds
  });
  const carrier = options.redis ? redisNotifications(options.redis, options.name, options.logger) : notifications(options.logger);
  const events = new EventChannel(carrier, options.logger, options.outbox ? outboxHistory(sql, { inMemory: kind === 'pglite' && !options.dataDir }) : undefined);
  // Polled outside Prisma (`sql`): the statement counts stay those of the requests.
  const outbox = options.outbox ? outboxPublisher(sql, events, options.logger) : undefined;
  return {
    client,
    kind,
    events,
    outbox: { wake: () => outbox?.wake(), drain: async () => outbox?.drain() },
    statements: () => statements,
    ping: async () => {
      await client.$queryRawUnsafe('SELECT 1');
    },
    close: async () => {
      await outbox?.stop();
      await events.close();
      await client.$disconnect();
      await close();
    },
  };
}
