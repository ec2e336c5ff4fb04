import { alertQueues } from '../alerts/alerts.queues.ts';
import { emailQueues } from '../email/email.queues.ts';
import { orderQueues } from '../orders/order-queues.ts';
import { supplierQueues } from '../supplier/supplier-queues.ts';
import type { QueueSpec } from './queue-spec.ts';

/**
 * Every queue of the application. Each process that sends jobs creates them at
 * start (createQueues): sending to a missing queue throws.
 */
export const allQueues: readonly QueueSpec[] = [...emailQueues, ...orderQueues, ...alertQueues, ...supplierQueues];
