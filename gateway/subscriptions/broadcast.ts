// One stream of events shared by every subscriber of the same operation, variables and token: a
// thousand visitors watching one product cost one subscription at the subgraph and one run of the
// query plan per event, not a thousand. A subscriber who joins a running stream first receives
// its latest event, which is the current state (the owning subgraph sends the current state first,
// then every change), so joining late misses nothing. Each subscriber has its own queue; one that
// falls `maxQueued` events behind is dropped with `overflow()` as its last event, and the others
// go on. `end(last)` ends the stream for everyone with one last event (a subscription the new
// supergraph no longer serves).

/** A started source of events, and how to stop it at once (an async generator cannot be stopped while it waits). */
export interface Source<T> {
  events: AsyncIterator<T>;
  stop(): void;
}

interface Subscriber<T> {
  queue: T[];
  /** Resolves a pending next(). */
  wake?: () => void;
  ended: boolean;
}

export class Broadcast<T> {
  readonly #subscribers = new Set<Subscriber<T>>();
  readonly #source: Source<T>;
  readonly #onEnd: () => void;
  readonly #maxQueued: number;
  readonly #overflow: () => T;
  #latest: { value: T } | undefined;
  #ended = false;

  constructor(options: { start: () => Source<T>; onEnd: () => void; maxQueued: number; overflow: () => T }) {
    this.#onEnd = options.onEnd;
    this.#maxQueued = options.maxQueued;
    this.#overflow = options.overflow;
    this.#source = options.start();
    void this.#pump();
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subscribers.size;
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const next = await this.#source.events.next();
        if (next.done || this.#ended) break;
        this.#latest = { value: next.value };
        for (const s of this.#subscribers) this.#deliver(s, next.value);
      }
    } finally {
      this.#end();
      for (const s of this.#subscribers) this.#finish(s);
    }
  }

  #deliver(s: Subscriber<T>, value: T) {
    if (s.queue.length >= this.#maxQueued) {
      s.queue.push(this.#overflow());
      this.#leave(s);
      this.#finish(s);
      return;
    }
    s.queue.push(value);
    s.wake?.();
  }

  #finish(s: Subscriber<T>) {
    s.ended = true;
    s.wake?.();
  }

  #leave(s: Subscriber<T>) {
    this.#subscribers.delete(s);
    if (this.#subscribers.size === 0) this.#end();
  }

  /** No subscriber left, or the source ended: stop it, once; a new subscriber then starts a new stream. */
  #end() {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd();
    this.#source.stop();
  }

  /** Ends the stream now: every subscriber receives `last` after what it has queued, then the end. */
  end(last: T) {
    if (this.#ended) return;
    for (const s of this.#subscribers) {
      s.queue.push(last);
      this.#finish(s);
    }
    this.#end();
  }

  /** False once the stream has ended: subscribe to a new one. */
  get open(): boolean {
    return !this.#ended;
  }

  subscribe(): AsyncIterableIterator<T> {
    const s: Subscriber<T> = { queue: this.#latest ? [this.#latest.value] : [], ended: this.#ended };
    if (!this.#ended) this.#subscribers.add(s);
    const iterator: AsyncIterableIterator<T> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (s.queue.length === 0 && !s.ended) await new Promise<void>((resolve) => (s.wake = resolve));
        s.wake = undefined;
        if (s.queue.length > 0) return { done: false, value: s.queue.shift()! };
        return { done: true, value: undefined };
      },
      return: async () => {
        s.queue.length = 0;
        if (!s.ended) this.#leave(s);
        this.#finish(s);
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }
}
