// The transactional outbox: a subgraph writes its change events into its own database's
// "OutboxEvent" table in the same transaction as the change (`outboxInsert` below), and this
// publisher moves them to the event channel (lib/subgraph/events.ts), at least once and in the
// order they were written, marking each once published. A crash between commit and publish, or a
// carrier (Redis, the LISTEN connection) that is away, delays an event; it never drops it, and no
// request waits for the carrier. Every replica publishes; two meeting on the same rows publish an
// event twice, and subscribers drop the second by its id (the row's sequence number). Published
// rows are kept for RETAIN_MINUTES: a replica whose own carrier connection dropped delivers again
// what was published meanwhile (`recent`), since pub/sub does not keep it for a disconnected listener,
// and a subscription resumed after its last event id replays what came after it (`after`).
import type { Logger } from '../logger.js';
import type { EventChannel, OutboxHistory, StoredEvent } from './events.js';

/** The SQL this module runs outside Prisma, so that polling adds nothing to the statement counts. */
export interface RawSql {
  query<R>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface OutboxOptions {
  /** How often the table is looked at without a wake-up (events written by a replica that died, or while the carrier was away). */
  intervalMs?: number;
  /** Events published per round trip at most. */
  batch?: number;
}

/** How long published events are kept for replicas that reconnect to the carrier. */
const RETAIN_MINUTES = 10;


/** The events published since `since`, oldest first: what a replica replays after its carrier connection came back. */
export async function recentEvents(sql: RawSql, since: Date): Promise<StoredEvent[]> {
  const rows = await sql.query<{ id: string | bigint; topic: string; payload: string }>(
    `SELECT id, topic, payload FROM ${OUTBOX_TABLE} WHERE "publishedAt" >= $1 ORDER BY id LIMIT 10000`,
    [since],
  );
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

/** Events published shortly before the one a subscriber had last are replayed too: ids are taken before commit, so they can arrive out of order. */
const REPLAY_MARGIN_SECONDS = 5;

/** `inMemory`: the database lives as long as this process (embedded, without a folder). */
export function outboxHistory(sql: RawSql, { inMemory = false }: { inMemory?: boolean } = {}): OutboxHistory {
  let name: Promise<string> | undefined = inMemory ? Promise.resolve(String(Date.now())) : undefined;
  return {
    name() {
      name ??= sql.query<{ oid: string | number }>('SELECT oid::text AS oid FROM pg_database WHERE datname = current_database()').then(([row]) => String(row?.oid ?? '0'));
      name.catch(() => (name = undefined)); // asked again next time
      return name;
    },
    recent: (since) => recentEvents(sql, since),
    async after(topic, after) {
      // `after` is a string of digits (checked by the caller) and passed as a parameter.
      const [bounds] = await sql.query<{ lo: string | bigint | null; hi: string | bigint | null }>(`SELECT min(id) AS lo, max(id) AS hi FROM ${OUTBOX_TABLE}`);
      const last = BigInt(after);
      const lo = bounds?.lo == null ? undefined : BigInt(bounds.lo);
      const hi = bounds?.hi == null ? 0n : BigInt(bounds.hi);
      // The sweep keeps the newest row, so `hi` is the newest id ever written.
      // Newer than the history: none of it follows that id.
      if (last > hi) return { events: [], complete: false };
      const complete = lo === undefined || last >= lo - 1n;
      const rows = await sql.query<{ id: string | bigint; topic: string; payload: string }>(
        `SELECT id, topic, payload FROM ${OUTBOX_TABLE} WHERE topic = $1 AND "publishedAt" IS NOT NULL
           AND (id > $2::bigint OR "publishedAt" >= (SELECT "publishedAt" FROM ${OUTBOX_TABLE} WHERE id = $2::bigint) - interval '${REPLAY_MARGIN_SECONDS} seconds')
         ORDER BY id LIMIT 10000`,
        [topic, after],
      );
      return { events: rows.map((r) => ({ ...r, id: String(r.id) })), complete };
    },
    async newest() {
      const [row] = await sql.query<{ hi: string | bigint | null }>(`SELECT max(id) AS hi FROM ${OUTBOX_TABLE}`);
      return row?.hi == null ? '0' : String(row.hi);
    },
  };
}

export interface Outbox {
  /** Call after a commit that wrote events: publishes them now instead of at the next look. */
  wake(): void;
  /** Publishes everything there is, once; resolves when the table is empty or the carrier refused. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** The table each publishing subgraph's schema.prisma declares as `OutboxEvent`. */
export const OUTBOX_TABLE = '"OutboxEvent"';

export function outboxPublisher(sql: RawSql, events: EventChannel, log: Logger, { intervalMs = 1_000, batch = 200 }: OutboxOptions = {}): Outbox {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let failing = false;
  let sweepDue = 0;

  /** Publishes in id order until the table is empty or a publish fails; deletes what it published. */
  async function drain(): Promise<void> {
    for (;;) {
      const rows = await sql.query<{ id: string | bigint; topic: string; payload: string }>(
        `SELECT id, topic, payload FROM ${OUTBOX_TABLE} WHERE "publishedAt" IS NULL ORDER BY id LIMIT ${batch}`,
      );
      if (rows.length === 0) {
        if (Date.now() >= sweepDue) {
          sweepDue = Date.now() + 60_000;
          // The newest row stays: it tells a resuming subscriber where the history ends (OutboxHistory.after).
          await sql.query(
            `DELETE FROM ${OUTBOX_TABLE} WHERE "publishedAt" < now() - interval '${RETAIN_MINUTES} minutes' AND id < (SELECT max(id) FROM ${OUTBOX_TABLE})`,
          );
        }
        return;
      }
      const published: string[] = [];
      try {
        for (const row of rows) {
          await events.publishStored(row.topic, String(row.id), row.payload);
          published.push(String(row.id));
        }
      } finally {
        // Ids are the table's own integers, never client input.
        if (published.length > 0) await sql.query(`UPDATE ${OUTBOX_TABLE} SET "publishedAt" = now() WHERE id IN (${published.join(',')})`);
      }
      if (failing) log.info('event outbox: publishing again');
      failing = false;
      if (rows.length < batch) return;
    }
  }

  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true; // looked at again once this round ends: it may have read before the new rows committed
      return;
    }
    running = drain()
      .catch((err: unknown) => {
        // Said once per outage; the rows stay, and the next look publishes them.
        if (!failing) log.warn({ err }, 'event outbox: cannot publish now; events wait in the outbox');
        failing = true;
      })
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          wake();
        }
      });
  };
  const timer = setInterval(wake, intervalMs);
  timer.unref();
  wake(); // what a previous process left behind
  return {
    wake,
    async drain() {
      while (running) await running;
      await drain();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
