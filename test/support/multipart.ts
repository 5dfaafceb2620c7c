// Reads a multipart/mixed response (incremental delivery, deferSpec=20220824) payload by payload as
// the bytes arrive, noting when each arrived: what a client of a deferred operation sees.
export interface TimedPayload {
  /** Milliseconds from sending the request to this payload's arrival. */
  at: number;
  /** When it arrived (performance.now()), to compare with other events of the test. */
  arrived: number;
  body: Record<string, any>;
}

export interface MultipartResult {
  status: number;
  headers: Headers;
  payloads: TimedPayload[];
  /** Whether the closing delimiter (`-----`) ended the body. */
  closed: boolean;
  /** The whole body as received. */
  raw: string;
}

/** POSTs `request` accepting multipart/mixed and collects the payloads; a non-multipart answer comes back as one payload. */
export async function sendDeferred(url: string, request: Record<string, unknown>, headers: Record<string, string> = {}): Promise<MultipartResult> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed;deferSpec=20220824,application/json', ...headers },
    body: JSON.stringify(request),
  });
  const payloads: TimedPayload[] = [];
  let raw = '';
  const decoder = new TextDecoder();
  const multipart = response.headers.get('content-type')?.startsWith('multipart/mixed') ?? false;
  let buffer = '';
  for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    raw += text;
    if (!multipart) continue;
    buffer += text;
    // A part is complete once the next delimiter (or the closing one) follows it.
    for (;;) {
      const start = buffer.indexOf('\r\n---\r\n');
      if (start === -1) break;
      const headerEnd = buffer.indexOf('\r\n\r\n', start + 7);
      if (headerEnd === -1) break;
      const next = buffer.indexOf('\r\n---', headerEnd + 4);
      if (next === -1) break;
      payloads.push({ at: performance.now() - started, arrived: performance.now(), body: JSON.parse(buffer.slice(headerEnd + 4, next)) });
      buffer = buffer.slice(next);
    }
  }
  if (!multipart) payloads.push({ at: performance.now() - started, arrived: performance.now(), body: JSON.parse(raw) });
  return { status: response.status, headers: response.headers, payloads, closed: raw.endsWith('\r\n-----\r\n'), raw };
}
