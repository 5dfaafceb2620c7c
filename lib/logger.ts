// Structured JSON logs; every line of a request carries its request id.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** JSON lines to stdout, or to `destination` (tests read the lines). */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    // Credentials must never reach a log line, whatever a caller passes in.
    redact: ['req.headers.authorization', '*.password', '*.passwordHash', 'password', 'passwordHash'],
  };
  return destination ? pino(options, destination) : pino(options);
}
