/** A Stripe endpoint's `enabled_events`: event types, or `*` for every type. */

/** `*` or a dotted lowercase type such as `checkout.session.completed`. */
export function isEventType(type: string): boolean {
  return type === '*' || /^[a-z_]+(\.[a-z_]+)+$/.test(type);
}

export function isEventTypeList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((type) => typeof type === 'string' && isEventType(type));
}

export function subscribedTo(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(type);
}
