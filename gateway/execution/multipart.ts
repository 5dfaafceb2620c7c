// The multipart/mixed response of a deferred operation, as Apollo Router writes it and Apollo
// Client reads it (deferSpec=20220824): boundary "-", each payload a JSON part, then the closing
// delimiter. A client that does not accept it gets the whole result as one JSON response.
import type { ServerResponse } from 'node:http';

export const MULTIPART_CONTENT_TYPE = 'multipart/mixed; boundary="-"; deferSpec=20220824';
const PART_HEADER = '\r\n---\r\nContent-Type: application/json; charset=utf-8\r\n\r\n';
const CLOSING = '\r\n-----\r\n';

/**
 * Whether the Accept header takes incremental delivery: `multipart/mixed` with deferSpec=20220824
 * or without a deferSpec (Apollo Client 4 sends `multipart/mixed;deferSpec=20220824,application/json`).
 */
export function acceptsMultipart(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'multipart/mixed') return false;
    const spec = params.find((p) => p.startsWith('deferspec='));
    return spec === undefined || spec.replace(/"/g, '') === 'deferspec=20220824';
  });
}

/** Writes payloads as they come; ignores any after the client went away. */
export class MultipartWriter {
  #ended = false;

  constructor(private readonly res: ServerResponse) {}

  start(): void {
    // no-store: parts are not a cacheable whole; X-Accel-Buffering: no asks a proxy in front (nginx) to pass each part on at once.
    this.res.writeHead(200, { 'content-type': MULTIPART_CONTENT_TYPE, 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // Sends the head now: the client sees the response start before the first payload is ready.
    this.res.flushHeaders();
  }

  /** Whether the client still reads. */
  get open(): boolean {
    return !this.#ended && !this.res.destroyed && this.res.writable;
  }

  write(payload: unknown): void {
    if (!this.open) return;
    this.res.write(PART_HEADER + JSON.stringify(payload));
  }

  end(): void {
    if (!this.open) return;
    this.#ended = true;
    this.res.end(CLOSING);
  }
}
