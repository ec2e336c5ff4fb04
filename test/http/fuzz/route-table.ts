import type { FastifyInstance, HTTPMethods, RouteOptions } from 'fastify';

export interface RouteEntry {
  method: HTTPMethods;
  /** The route as registered: `/stats/customers/:id`, `/static/*`. */
  url: string;
  /** Its parameters, in order: `:id` → `id`, a wildcard → `*`. */
  params: string[];
  /** `config: { public: true }`: reachable without signing in. */
  public: boolean;
  /** Whether it declares a JSON schema for its body, query or params (none does today; the fuzz does not rely on one). */
  schema: boolean;
}

/**
 * The route table as Fastify builds it: build()'s onRoute hook hears every
 * route, those of plugins (the static files, HEAD twins) included, so a route
 * added tomorrow is fuzzed tomorrow. Checked against app.hasRoute once the
 * app is ready.
 */
export function routeCollector(): { onRoute: (route: RouteOptions) => void; table: (app: FastifyInstance) => RouteEntry[] } {
  const heard: RouteEntry[] = [];
  return {
    onRoute(route) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const config = route.config as { public?: boolean } | undefined;
      for (const method of methods) {
        heard.push({ method, url: route.url, params: paramsOf(route.url), public: config?.public === true, schema: route.schema !== undefined });
      }
    },
    table(app) {
      const unique = new Map(heard.map((entry) => [`${entry.method} ${entry.url}`, entry]));
      for (const entry of unique.values()) {
        if (!app.hasRoute({ method: entry.method, url: entry.url })) throw new Error(`onRoute told of "${entry.method} ${entry.url}", which Fastify does not route`);
      }
      return [...unique.values()].sort((a, b) => `${a.url} ${a.method}`.localeCompare(`${b.url} ${b.method}`));
    },
  };
}

function paramsOf(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)|\*/g)].map((m) => m[1] ?? '*');
}

/** The route's URL with each parameter replaced by an (already encoded) value. */
export function fillPath(route: RouteEntry, values: readonly string[]): string {
  let i = 0;
  return route.url.replace(/:([A-Za-z0-9_]+)|\*/g, () => values[i++] ?? '');
}
