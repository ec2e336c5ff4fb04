import { collectDefaultMetrics, Registry } from 'prom-client';
import { replicaLag, statsReadFallbacks, statsReads } from './stats-reads.ts';
import { webhookRejects } from './webhook-rejects.ts';

let registry: Registry | undefined;

/**
 * The process's own metrics: prom-client's defaults (CPU, memory, event loop
 * lag, GC, handles), the webhook reject counter and the stats reads' sources
 * (stats-reads.ts). Created once per process,
 * not per app instance: the default collectors start observers that are never
 * stopped, and they describe the process anyway. Its own registry, never
 * prom-client's global one.
 */
export function processMetrics(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
    registry.registerMetric(webhookRejects);
    registry.registerMetric(statsReads);
    registry.registerMetric(statsReadFallbacks);
    registry.registerMetric(replicaLag);
  }
  return registry;
}
