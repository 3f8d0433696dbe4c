import type { LogLevel } from '../config/service-config.js';
import { createServiceLogger, type ServiceLogger } from '../logging/service-logger.js';

/** A logger writing parsed JSON lines into an array, to assert what a service logged. */
export function capturedLogger(
  service: string,
  level: LogLevel = 'info',
): { logger: ServiceLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createServiceLogger(service, level, {
    write: (line: string) => void lines.push(JSON.parse(line)),
  });
  return { logger, lines };
}
