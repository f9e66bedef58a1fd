/** Structured logs: one JSON object a line on stderr, with the level and the member id. */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export function createLogger(options: { serverId: number; level?: string }): Logger {
  return pino(
    {
      level: options.level ?? process.env.PADDOCK_LOG_LEVEL ?? 'info',
      base: { member: options.serverId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
