// Structured JSON logs; every line of a request carries its request id.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    // Credentials must never reach a log line, whatever a caller passes in.
    redact: ['req.headers.authorization', '*.password', '*.passwordHash', 'password', 'passwordHash'],
  });
}
