// Waiting for readiness: polling a check until it passes, failing early when the process being
// waited for exits and late when it takes too long, either way with the process's last output.
import type { ChildProcess } from 'node:child_process';

export interface WaitOptions {
  /** Names what is awaited in the error messages. */
  what: string;
  child: ChildProcess;
  /** The process's output so far (its tail goes into the error). */
  output: () => string;
  timeoutMs: number;
  intervalMs: number;
}

/** Resolves once `check` answers true. */
export async function waitUntil(check: () => Promise<boolean>, { what, child, output, timeoutMs, intervalMs }: WaitOptions): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what}: the process exited (${child.exitCode}):\n${output()}`);
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`${what}: no answer within ${timeoutMs / 1000} s:\n${output()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
