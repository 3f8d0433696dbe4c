import { Counter, type Registry } from 'prom-client';

export const HTTP_REJECTIONS_METRIC = 'http_requests_rejected_total';

/**
 * The service's count of HTTP requests refused, by reason (`body_too_large`, `header_timeout`,
 * `bad_signature`, …): the kit's HTTP layer counts what it refuses, a service's handlers count
 * theirs on the same counter. One per registry.
 */
export function httpRejections(registry: Registry): Counter<'reason'> {
  const existing = registry.getSingleMetric(HTTP_REJECTIONS_METRIC);
  if (existing !== undefined) return existing as Counter<'reason'>;
  return new Counter({
    name: HTTP_REJECTIONS_METRIC,
    help: 'HTTP requests refused, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
}
