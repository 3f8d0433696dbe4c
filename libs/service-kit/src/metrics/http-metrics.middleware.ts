import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';

// Express sets `route` on matched requests; its pattern (not the URL) keeps label values bounded.
type RoutedRequest = IncomingMessage & { route?: { path?: unknown } };

/** Express middleware counting and timing every HTTP request by method, route and status. */
export function httpMetricsMiddleware(registry: Registry) {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames,
    registers: [registry],
  });
  return (req: RoutedRequest, res: ServerResponse, next: () => void): void => {
    const stopTimer = duration.startTimer();
    res.once('finish', () => {
      const route = typeof req.route?.path === 'string' ? req.route.path : 'unmatched';
      const labels = { method: req.method ?? 'UNKNOWN', route, status: String(res.statusCode) };
      requests.inc(labels);
      stopTimer(labels);
    });
    next();
  };
}
