import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/service-config.js';

/** The JSON logger every part of a service writes to; components take it from their context. */
export type ServiceLogger = Logger;

/**
 * One JSON object per line on stdout, each naming the service. Writes are synchronous so the
 * last line before `process.exit` (a fatal startup error, the shutdown report) is never lost.
 */
export function createServiceLogger(
  service: string,
  level: LogLevel,
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
): ServiceLogger {
  return pino(
    {
      level,
      base: { service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names ("fatal") rather than numbers (60) keep the lines readable with grep.
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
