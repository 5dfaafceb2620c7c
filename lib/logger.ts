// Structured JSON logs; every line of a request carries its request id (and its trace id when traced).
import { pino, type DestinationStream, type Logger } from 'pino';
import { logTraceFields } from './telemetry/tracing.js';

export type { Logger };

/** JSON lines to stdout, or to `destination` (tests read the lines). */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    // trace_id and span_id of the active span, when tracing is on: a log line leads to its trace.
    mixin: logTraceFields,
    // Credentials must never reach a log line, whatever a caller passes in.
    redact: ['req.headers.authorization', '*.password', '*.passwordHash', 'password', 'passwordHash'],
  };
  return destination ? pino(options, destination) : pino(options);
}
