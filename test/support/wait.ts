// The one way the tests wait for something that happens in its own time (a recovery, an exported
// span, a log line): poll a condition until it holds, up to a deadline, and name it when it never does.

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Resolves with the first value of `probe` that is not undefined, null or false. A probe that
 * throws (an `expect` not met yet, a service still down) counts as not yet; its last error is in
 * the message of the timeout.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, { timeoutMs = 30_000, intervalMs = 50 }: WaitOptions = {}): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as Exclude<T, undefined | null | false>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waited ${timeoutMs} ms for ${what}, in vain${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
