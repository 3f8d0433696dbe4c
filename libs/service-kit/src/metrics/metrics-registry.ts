import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The service's Prometheus registry with Node's process metrics; every series carries the
 * service's name. Components register their own metrics on it.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
