// The event channel: how a subgraph tells every one of its replicas that data changed, so that each
// can push the change to the subscribers connected to it. Carried by PostgreSQL LISTEN/NOTIFY on the
// subgraph's own database (PGlite in-process, PostgreSQL through one dedicated connection): no
// extra server, and a replica sees what any replica committed. With REDIS_URL set, Redis pub/sub
// carries them instead (it spares the database the LISTEN connections of many replicas). Producers
// write events into their transactional outbox, which publishes them here (lib/subgraph/outbox.ts),
// at least once; each event carries its outbox id, and a subscriber drops one it has seen. A
// payload carries only ids, the subscriber reads the current state itself, so events for the same
// id can be coalesced without losing anything a subscriber would see. A subscription can resume
// after the last event id it had (the gateway's, after its subgraph connection dropped): what the
// outbox still holds after it is replayed first, through the same filter, then it goes live.
import type { PGlite } from '@electric-sql/pglite';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { ServiceName } from '../services.js';

/** An event as the outbox stored it. */
export interface StoredEvent {
  id: string;
  topic: string;
  payload: string;
}

/** What the outbox (lib/subgraph/outbox.ts, outboxHistory) still holds, for subscribers that come back. */
export interface OutboxHistory {
  /** The events published since `since`, oldest first: what a replica replays after its carrier connection came back. */
  recent(since: Date): Promise<StoredEvent[]>;
  /**
   * The published events of `topic` a subscriber whose last event was `after` may not have had,
   * oldest first (all it holds when `after` is older than that); `complete` is false when some may
   * be gone: `after` is older than the outbox keeps, or newer than anything it holds (another
   * database, or a forged id: then nothing is replayed).
   */
  after(topic: string, after: string): Promise<{ events: StoredEvent[]; complete: boolean }>;
  /** The newest event id ('0' when there is none yet): where a new subscriber stands. */
  newest(): Promise<string>;
  /**
   * Which history the ids belong to: a database made again (dropped and created, restored, an
   * embedded one in memory started again) counts its ids from 1 again. The database's oid, which
   * every replica sees and a restart keeps; for a database in memory, the moment it was opened.
   */
  name(): Promise<string>;
}

/** The raw LISTEN/NOTIFY of one database. */
export interface Notifications {
  notify(channel: string, payload: string): Promise<void>;
  /** Resolves once the LISTEN is in place: a notification committed after that is delivered. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<void>;
  /** Called when the listening connection is back after it dropped: what was sent meanwhile did not arrive. */
  onReconnect?(callback: () => void): void;
  close(): Promise<void>;
}

export function pgliteNotifications(pglite: PGlite): Notifications {
  return {
    notify: async (channel, payload) => {
      await pglite.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    listen: async (channel, onPayload) => {
      await pglite.listen(channel, onPayload);
    },
    close: async () => {},
  };
}

/** Waits between attempts to get the LISTEN connection back (a PostgreSQL restart, a failover). */
const RELISTEN_DELAY_MS = 1_000;

/**
 * NOTIFY through the pool; LISTEN on one dedicated connection (a pooled one would be handed to
 * other queries and lose its LISTENs), opened at the first listen and reopened when it breaks.
 */
export function postgresNotifications(url: string, pool: pg.Pool, log: Logger): Notifications {
  const handlers = new Map<string, (payload: string) => void>();
  const reconnected: (() => void)[] = [];
  let client: Promise<pg.Client> | undefined;
  let closed = false;
  const connect = (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => handlers.get(n.channel)?.(n.payload ?? ''));
    c.on('error', (err) => {
      log.warn({ err }, 'event channel connection lost; listening again');
      client = undefined;
      void c.end().catch(() => {});
      if (!closed) setTimeout(() => void relisten(), RELISTEN_DELAY_MS).unref();
    });
    return c.connect().then(async () => {
      for (const channel of handlers.keys()) await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return c;
    });
  };
  const relisten = async () => {
    if (closed || client) return;
    client = connect();
    await client.then(
      () => reconnected.forEach((callback) => callback()),
      (err: unknown) => {
        log.warn({ err }, 'event channel: cannot listen yet');
        client = undefined;
        if (!closed) setTimeout(() => void relisten(), RELISTEN_DELAY_MS).unref();
      },
    );
  };
  return {
    notify: async (channel, payload) => {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    listen: async (channel, onPayload) => {
      const fresh = !handlers.has(channel);
      handlers.set(channel, onPayload);
      if (!client) {
        client = connect(); // listens to every channel in `handlers`, this one included
        await client;
      } else if (fresh) {
        await (await client).query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
    },
    onReconnect: (callback) => void reconnected.push(callback),
    close: async () => {
      closed = true;
      const c = await client?.catch(() => undefined);
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}

/**
 * PUBLISH and SUBSCRIBE on Redis, under `<prefix>events:<service>:<topic>`. The subscribing
 * connection is opened at the first listen; ioredis reconnects and subscribes again by itself.
 * Publishing fails fast while Redis is away (no offline queue): the outbox keeps the event and
 * publishes it once Redis is back.
 */
export function redisNotifications(redis: { url: string; keyPrefix: string }, service: ServiceName, log: Logger): Notifications {
  const channelOf = (topic: string) => `${redis.keyPrefix}events:${service}:${topic}`;
  const handlers = new Map<string, (payload: string) => void>();
  const connect = (role: string) => {
    // Commands fail at once while disconnected instead of queueing for the reconnect.
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: role !== 'publishing' });
    let reachable = true;
    client.on('ready', () => (reachable = true));
    client.on('error', (err) => {
      if (reachable) log.warn({ err }, `event channel: Redis unreachable (${role}); trying again`);
      reachable = false;
    });
    return client;
  };
  const publisher = connect('publishing');
  const reconnected: (() => void)[] = [];
  let subscriber: Redis | undefined;
  return {
    notify: async (topic, payload) => {
      await publisher.publish(channelOf(topic), payload);
    },
    listen: async (topic, onPayload) => {
      if (!subscriber) {
        subscriber = connect('subscribing');
        subscriber.on('message', (channel: string, message: string) => handlers.get(channel)?.(message));
        // ioredis subscribes again on its own once it is ready; messages published meanwhile are gone.
        let ready = false;
        subscriber.on('ready', () => {
          if (ready) setTimeout(() => reconnected.forEach((callback) => callback()), 200).unref(); // after the re-SUBSCRIBE
          ready = true;
        });
      }
      handlers.set(channelOf(topic), onPayload);
      await subscriber.subscribe(channelOf(topic));
    },
    onReconnect: (callback) => void reconnected.push(callback),
    close: async () => {
      publisher.disconnect();
      subscriber?.disconnect();
    },
  };
}

/** An event on a topic: the changed record's id and the ids a subscriber filters on. */
export interface ChangeEvent {
  id: string;
  /** The outbox row it was published from: the same event published twice has the same one. */
  eventId?: string;
  /** e.g. the owner of an order, so a subscriber to "my orders" needs no read to filter. */
  owner?: string;
}

export interface EventStream extends AsyncIterableIterator<string> {
  /** Queues an id as if an event had arrived (e.g. the current state, first). */
  push(id: string): void;
  /** Resumed after an event id (SubscribeOptions.after) without a gap: the events since were replayed, the current state is not needed. */
  readonly resumed: boolean;
  /**
   * Where this stream stands in the outbox's history after the id it yielded last (RESUME_POINT): a
   * subscriber that loses the stream resumes after it. Undefined without an outbox.
   */
  readonly position: string | undefined;
  /** The outbox ids of the events the id yielded last stands for (none for a pushed one). */
  readonly lastEventIds: readonly string[];
  /** The resume point asked for is no longer (or was never) in the outbox: events may be missing. */
  readonly gap: boolean;
}

export interface SubscribeOptions {
  /** Where the subscriber was (a `position`, RESUME_POINT): the stream first replays, from the outbox, what came after it. */
  after?: string;
}

/** A resume point: which history (OutboxHistory.name), a dot, the last event id in it. */
export const RESUME_POINT = /^(\d{1,16})\.(\d{1,18})$/;

/** Distinct ids waiting in one subscriber's stream at most; beyond, the stream ends with an error. */
export const MAX_PENDING_IDS = 10_000;
/** Event ids remembered per topic to drop a second delivery; an outbox publishes a duplicate within a few rounds. */
const REMEMBERED_EVENTS = 10_000;

/** Adds to a set that forgets its oldest entries past `max`; false when the value was there. */
export function remember(set: Set<string>, value: string, max = REMEMBERED_EVENTS): boolean {
  if (set.has(value)) return false;
  set.add(value);
  if (set.size > max) set.delete(set.values().next().value!);
  return true;
}

/**
 * Typed topics over one database's notifications. One LISTEN per topic per process, fanned out in
 * memory to every local subscriber.
 */
export class EventChannel {
  readonly #notifications: Notifications;
  readonly #log: Logger;
  readonly #history: OutboxHistory | undefined;
  readonly #listeners = new Map<string, Set<(event: ChangeEvent) => void>>();
  readonly #listening = new Map<string, Promise<void>>();
  /** Per topic, the ids of the events delivered last, oldest first. */
  readonly #seen = new Map<string, Set<string>>();

  /**
   * `history` reads the outbox (lib/subgraph/outbox.ts): after the carrier connection dropped and
   * came back, what was published meanwhile is delivered again to this process's subscribers, who
   * drop what they already had; a subscription resumed after an event id replays from it.
   */
  constructor(notifications: Notifications, log: Logger, history?: OutboxHistory) {
    this.#notifications = notifications;
    this.#log = log;
    this.#history = history;
    if (history) {
      let lastDelivery = new Date();
      this.#onDelivery = () => (lastDelivery = new Date());
      notifications.onReconnect?.(() => {
        // Everything since shortly before the last event that arrived: the gap lies after it.
        const since = new Date(lastDelivery.getTime() - 5_000);
        const replay = async (attempt: number): Promise<void> => {
          try {
            for (const e of await history.recent(since)) this.#deliver(e.topic, JSON.stringify({ ...(JSON.parse(e.payload) as ChangeEvent), eventId: e.id }));
          } catch (err) {
            if (attempt < 30) setTimeout(() => void replay(attempt + 1), 1_000).unref();
            else this.#log.warn({ err }, 'event channel: could not replay the events missed while disconnected');
          }
        };
        void replay(0);
      });
    }
  }
  #onDelivery: () => void = () => {};

  /**
   * Publishes an event the outbox stored (lib/subgraph/outbox.ts) under its outbox id; throws when
   * the carrier cannot take it, so that the outbox keeps it and tries again.
   */
  async publishStored(topic: string, eventId: string, payload: string): Promise<void> {
    const event = { ...(JSON.parse(payload) as ChangeEvent), eventId };
    await this.#notifications.notify(topic, JSON.stringify(event));
  }

  #deliver(topic: string, payload: string) {
    let event: ChangeEvent;
    try {
      event = JSON.parse(payload) as ChangeEvent;
    } catch {
      this.#log.warn({ topic }, 'unreadable event ignored');
      return;
    }
    if (event.eventId !== undefined) {
      const seen = this.#seen.get(topic) ?? new Set<string>();
      this.#seen.set(topic, seen);
      if (!remember(seen, event.eventId)) return; // published twice (two replicas' outboxes met on it)
    }
    this.#onDelivery();
    for (const listener of this.#listeners.get(topic) ?? []) listener(event);
  }

  /**
   * The ids of changed records on `topic` that `accept` lets through, from the moment the returned
   * promise resolves, or from `after` (SubscribeOptions). Ids waiting to be read are coalesced: a
   * subscriber reads the current state, so three changes of one order before it reads are one read.
   */
  async subscribe(topic: string, accept: (event: ChangeEvent) => boolean, { after }: SubscribeOptions = {}): Promise<EventStream> {
    let listening = this.#listening.get(topic);
    if (!listening) {
      listening = this.#notifications.listen(topic, (payload) => this.#deliver(topic, payload));
      this.#listening.set(topic, listening);
      listening.catch(() => this.#listening.delete(topic));
    }
    await listening;
    /** Waiting ids, each with the outbox ids of the events it stands for. */
    const pending = new Map<string, string[]>();
    /** Event ids this stream took, so that one both replayed and live is read once. */
    const taken = new Set<string>();
    let wake: (() => void) | undefined;
    let done = false;
    let failure: Error | undefined;
    let position: bigint | undefined;
    let history: string | undefined;
    let lastEventIds: string[] = [];
    let gap = false;
    /** While the outbox is replayed, live events wait here, so that they follow it. */
    let held: ChangeEvent[] | undefined = [];
    const listeners = this.#listeners.get(topic) ?? new Set();
    this.#listeners.set(topic, listeners);
    const push = (id: string, eventId?: string) => {
      if (done) return;
      if (eventId !== undefined && !remember(taken, eventId)) return;
      if (pending.size >= MAX_PENDING_IDS && !pending.has(id)) {
        failure = new Error('too many changes waiting for this subscriber');
        stop();
      }
      const ids = pending.get(id) ?? [];
      if (eventId !== undefined) ids.push(eventId);
      pending.set(id, ids);
      wake?.();
    };
    const take = (event: ChangeEvent) => {
      if (accept(event)) push(event.id, event.eventId);
    };
    const listener = (event: ChangeEvent) => (held ? held.push(event) : take(event));
    const stop = () => {
      done = true;
      listeners.delete(listener);
      wake?.();
    };
    listeners.add(listener);
    try {
      if (this.#history) {
        history = await this.#history.name();
        // Read after listening: an event after this point arrives live.
        const newest = BigInt(await this.#history.newest());
        position = newest;
        const [, from, id] = after === undefined ? [] : (RESUME_POINT.exec(after) ?? []);
        if (after !== undefined && (from !== history || id === undefined)) {
          gap = true; // another database's ids: none of its history follows
        } else if (id !== undefined) {
          const replay = await this.#history.after(topic, id);
          gap = !replay.complete;
          if (BigInt(id) <= newest) position = BigInt(id);
          for (const e of replay.events) take({ ...(JSON.parse(e.payload) as ChangeEvent), eventId: e.id });
        }
      }
    } catch (err) {
      stop();
      throw err;
    }
    for (const event of held) take(event);
    held = undefined;
    /** Where a subscriber stands once it has read what it was given: before the oldest event still waiting. */
    const positionNow = (): bigint | undefined => {
      if (position === undefined) return undefined;
      let at = position;
      for (const ids of pending.values()) for (const id of ids) if (BigInt(id) - 1n < at) at = BigInt(id) - 1n;
      return at;
    };
    let highest = position;
    const stream: EventStream = {
      push: (id) => push(id),
      // With a gap, the subscriber needs the current state as a new one does.
      resumed: after !== undefined && this.#history !== undefined && !gap,
      get position() {
        const at = positionNow();
        return at === undefined ? undefined : `${history}.${at}`;
      },
      get lastEventIds() {
        return lastEventIds;
      },
      get gap() {
        return gap;
      },
      [Symbol.asyncIterator]() {
        return stream;
      },
      async next() {
        while (!done && pending.size === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (failure) throw failure;
        if (done) return { done: true, value: undefined };
        const first = pending.entries().next();
        if (first.done) return { done: true, value: undefined };
        const [id, ids] = first.value;
        pending.delete(id);
        lastEventIds = ids;
        if (highest !== undefined) for (const e of ids) if (BigInt(e) > highest) highest = BigInt(e);
        position = highest;
        return { done: false, value: id };
      },
      async return() {
        stop();
        return { done: true, value: undefined };
      },
    };
    return stream;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#notifications.close();
  }
}
