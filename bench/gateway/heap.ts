// Memory that a process really holds: resident size read right after a full garbage collection,
// which the benchmark asks for through the inspector protocol (the processes it measures listen on
// a loopback inspector port of its choosing). Resident size alone moves by tens of MiB either way
// with V8's heap sizing and garbage not yet collected, which hides or fakes a leak.
import WebSocket from 'ws';
import { rssMiB } from '../runner/proc.js';

export interface Memory {
  /** Resident size as found, without a collection. */
  rssMiB: number;
  /** Resident size right after a full collection. */
  rssAfterGcMiB: number;
  /** The JavaScript heap in use after that collection. */
  heapUsedMiB: number;
}

/** One command over the inspector protocol; resolves with its result. */
function command(socket: WebSocket, id: number, method: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      if (message.id !== id) return;
      socket.off('message', onMessage);
      if (message.error) reject(new Error(`${method}: ${message.error.message}`));
      else resolve(message.result ?? {});
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ id, method }));
  });
}

/** Collects garbage in the process listening on `inspectPort`, then reads its memory. */
export async function memoryAfterGc(pid: number, inspectPort: number): Promise<Memory> {
  const found = rssMiB(pid);
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  try {
    await command(socket, 1, 'HeapProfiler.collectGarbage');
    const { usedSize } = (await command(socket, 2, 'Runtime.getHeapUsage')) as { usedSize: number };
    return { rssMiB: found, rssAfterGcMiB: rssMiB(pid), heapUsedMiB: usedSize / 2 ** 20 };
  } finally {
    socket.close();
  }
}
