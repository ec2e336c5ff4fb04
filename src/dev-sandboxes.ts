import { ConfigError } from './config.ts';
import type { Logger } from './logger.ts';
import { startAlertSandbox, type AlertSandbox } from './sandboxes/alerts/alert-sandbox.ts';
import { gatewaySandboxClient } from './sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox, type GatewaySandbox } from './sandboxes/gateway/gateway-sandbox.ts';
import { SUBSCRIBED_EVENT_TYPES } from './orders/stripe-events.ts';
import { startMailSandbox, type MailSandbox } from './sandboxes/mail/mail-sandbox.ts';
import { supplierSandboxClient } from './sandboxes/supplier/supplier-sandbox.client.ts';
import { startSupplierSandbox, type SupplierSandbox } from './sandboxes/supplier/supplier-sandbox.ts';

/**
 * `make start` on a developer's machine: the payment gateway sandbox and the
 * mail sandbox stand in for Stripe and an SMTP provider whenever the real ones
 * are not configured, so the shop can be tried end to end with no account
 * anywhere:
 * - the gateway sandbox when STRIPE_API_BASE is unset and STRIPE_SECRET_KEY is
 *   unset or the sandbox's own key (sk_test_tanktop…): a real key without an
 *   API base means api.stripe.com, which we never stand in for;
 * - the mail sandbox when SMTP_URL is unset;
 * - the alert sandbox (the team's chat channel) when ALERT_WEBHOOK_URL is unset;
 * - the supplier sandbox (the drop-shipping supplier) when SUPPLIER_API_URL is unset.
 * DEV_SANDBOXES=off starts none (a production machine should say so).
 */

export const DEV_SANDBOX_DEFAULTS = Object.freeze({ gatewayPort: 12111, smtpPort: 2525, mailboxPort: 8025, alertPort: 8026, host: '127.0.0.1' });
const WEBHOOK_SECRET_DEFAULT = 'whsec_tanktop_dev_sandbox_secret';

export interface DevSandboxPlan {
  gateway: { host: string; port: number; portFromEnv: boolean; publicUrl: string | undefined } | null;
  mail: { host: string; smtpPort: number; httpPort: number; portsFromEnv: boolean } | null;
}

/** Which sandboxes to start, and where, from the environment alone (no side effects). */
export function planDevSandboxes(env: NodeJS.ProcessEnv): DevSandboxPlan {
  const mode = env.DEV_SANDBOXES || 'auto';
  if (mode !== 'auto' && mode !== 'off') throw new ConfigError(`DEV_SANDBOXES must be auto or off, not "${mode}"`);
  if (mode === 'off') return { gateway: null, mail: null };
  const key = env.STRIPE_SECRET_KEY;
  const wantsGateway = !env.STRIPE_API_BASE && (!key || key.startsWith('sk_test_tanktop'));
  return {
    gateway: wantsGateway
      ? {
        host: env.GATEWAY_SANDBOX_HOST || DEV_SANDBOX_DEFAULTS.host,
        port: port(env, 'GATEWAY_SANDBOX_PORT', DEV_SANDBOX_DEFAULTS.gatewayPort),
        portFromEnv: Boolean(env.GATEWAY_SANDBOX_PORT),
        publicUrl: env.GATEWAY_SANDBOX_PUBLIC_URL || undefined,
      }
      : null,
    mail: env.SMTP_URL
      ? null
      : {
        host: env.MAIL_SANDBOX_HOST || DEV_SANDBOX_DEFAULTS.host,
        smtpPort: port(env, 'MAIL_SANDBOX_SMTP_PORT', DEV_SANDBOX_DEFAULTS.smtpPort),
        httpPort: port(env, 'MAIL_SANDBOX_HTTP_PORT', DEV_SANDBOX_DEFAULTS.mailboxPort),
        portsFromEnv: Boolean(env.MAIL_SANDBOX_SMTP_PORT || env.MAIL_SANDBOX_HTTP_PORT),
      },
  };
}

/** The supplier sandbox's defaults, as `npm run sandbox:supplier` has them (docs/supplier-api.md). */
export const SUPPLIER_SANDBOX_DEFAULTS = Object.freeze({ port: 12112, apiToken: 'tanktop-dev-supplier-token', webhookSecret: 'supplier_dev_webhook_secret' });

/** Whether and where the supplier sandbox starts (apart from planDevSandboxes, like the alert sandbox's). */
export function planSupplierSandbox(env: NodeJS.ProcessEnv): { host: string; port: number; portFromEnv: boolean; apiToken: string; webhookSecret: string } | null {
  if ((env.DEV_SANDBOXES || 'auto') === 'off' || env.SUPPLIER_API_URL) return null;
  return {
    host: env.SUPPLIER_SANDBOX_HOST || DEV_SANDBOX_DEFAULTS.host,
    port: port(env, 'SUPPLIER_SANDBOX_PORT', SUPPLIER_SANDBOX_DEFAULTS.port),
    portFromEnv: Boolean(env.SUPPLIER_SANDBOX_PORT),
    apiToken: env.SUPPLIER_API_TOKEN || SUPPLIER_SANDBOX_DEFAULTS.apiToken,
    webhookSecret: env.SUPPLIER_WEBHOOK_SECRET || SUPPLIER_SANDBOX_DEFAULTS.webhookSecret,
  };
}

/** Whether and where the alert sandbox starts (apart from planDevSandboxes, whose shape callers compare whole). */
export function planAlertSandbox(env: NodeJS.ProcessEnv): { host: string; port: number; portFromEnv: boolean } | null {
  if ((env.DEV_SANDBOXES || 'auto') === 'off' || env.ALERT_WEBHOOK_URL) return null;
  return {
    host: env.ALERT_SANDBOX_HOST || DEV_SANDBOX_DEFAULTS.host,
    port: port(env, 'ALERT_SANDBOX_PORT', DEV_SANDBOX_DEFAULTS.alertPort),
    portFromEnv: Boolean(env.ALERT_SANDBOX_PORT),
  };
}

export interface DevSandboxes {
  /** What the app and the worker must use instead (STRIPE_API_BASE, SMTP_URL), for the sandboxes started. */
  readonly env: Readonly<Record<string, string>>;
  /** The payment sandbox's URL (hosted pages, control API), if started. */
  readonly gatewayUrl: string | undefined;
  /** The mailbox (pages to read what was sent) and its SMTP address, if started. */
  readonly mail: { readonly httpUrl: string; readonly smtpUrl: string } | undefined;
  /** The alert sandbox's page and its webhook (ALERT_WEBHOOK_URL), if started. */
  readonly alerts: { readonly pageUrl: string; readonly url: string } | undefined;
  /** The supplier sandbox's page (its API is under /v1: SUPPLIER_API_URL), if started. */
  readonly supplierUrl: string | undefined;
  /** Where the gateway sandbox posts its events: the app's /webhooks/stripe, known once the app listens. */
  setWebhookUrl(url: string): Promise<void>;
  /** Where the supplier sandbox posts its events: the app's /webhooks/supplier. */
  setSupplierWebhookUrl(url: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts what planDevSandboxes asks for. A default port that is taken (another
 * checkout of the project running, a test) gives way to a free one, with a
 * warning; a port named in the environment must be free.
 */
export async function startDevSandboxes(env: NodeJS.ProcessEnv, log: Logger): Promise<DevSandboxes> {
  const plan = planDevSandboxes(env);
  const alertPlan = planAlertSandbox(env);
  const supplierPlan = planSupplierSandbox(env);
  let gateway: GatewaySandbox | undefined;
  let supplier: SupplierSandbox | undefined;
  let mail: MailSandbox | undefined;
  let alerts: AlertSandbox | undefined;
  try {
    if (plan.gateway) {
      const { host, port: wanted, portFromEnv, publicUrl } = plan.gateway;
      const start = (port: number) => startGatewaySandbox({
        host, port, publicUrl, webhookSecret: env.STRIPE_WEBHOOK_SECRET || WEBHOOK_SECRET_DEFAULT, log: log.child({ component: 'gateway-sandbox' }),
        enabledEvents: SUBSCRIBED_EVENT_TYPES,
      });
      gateway = await onFreePort(start, wanted, portFromEnv, 'GATEWAY_SANDBOX_PORT', 'payment sandbox', log);
    }
    if (plan.mail) {
      const { host, smtpPort, httpPort, portsFromEnv } = plan.mail;
      const start = (anyPort: number) => startMailSandbox({
        host, smtpPort: anyPort === 0 ? 0 : smtpPort, httpPort: anyPort === 0 ? 0 : httpPort, log: log.child({ component: 'mail-sandbox' }),
      });
      mail = await onFreePort(start, smtpPort, portsFromEnv, 'MAIL_SANDBOX_SMTP_PORT and MAIL_SANDBOX_HTTP_PORT', 'mail sandbox', log);
    }
    if (alertPlan) {
      const { host, port: wanted, portFromEnv } = alertPlan;
      const start = (port: number) => startAlertSandbox({ host, port, log: log.child({ component: 'alert-sandbox' }) });
      alerts = await onFreePort(start, wanted, portFromEnv, 'ALERT_SANDBOX_PORT', 'alert sandbox', log);
    }
    if (supplierPlan) {
      const { host, port: wanted, portFromEnv, apiToken, webhookSecret } = supplierPlan;
      const start = (port: number) => startSupplierSandbox({ host, port, apiToken, webhookSecret, log: log.child({ component: 'supplier-sandbox' }) });
      supplier = await onFreePort(start, wanted, portFromEnv, 'SUPPLIER_SANDBOX_PORT', 'supplier sandbox', log);
    }
  } catch (error) {
    await gateway?.close();
    await mail?.close();
    await alerts?.close();
    await supplier?.close();
    throw error;
  }

  const overrides: Record<string, string> = {};
  if (gateway) overrides.STRIPE_API_BASE = gateway.url;
  if (mail) overrides.SMTP_URL = mail.smtpUrl;
  if (alerts) overrides.ALERT_WEBHOOK_URL = alerts.url;
  if (supplier && supplierPlan) {
    overrides.SUPPLIER_API_URL = `${supplier.url}/v1`;
    overrides.SUPPLIER_API_TOKEN = supplierPlan.apiToken;
    overrides.SUPPLIER_WEBHOOK_SECRET = supplierPlan.webhookSecret;
  }
  return {
    env: Object.freeze(overrides),
    gatewayUrl: gateway?.url,
    mail: mail && { httpUrl: mail.httpUrl, smtpUrl: mail.smtpUrl },
    alerts: alerts && { pageUrl: alerts.pageUrl, url: alerts.url },
    supplierUrl: supplier?.url,
    async setWebhookUrl(url) {
      if (gateway) await gatewaySandboxClient(gateway.url).configure({ webhookUrl: url });
    },
    async setSupplierWebhookUrl(url) {
      if (supplier) await supplierSandboxClient(supplier.url).configure({ webhookUrl: url });
    },
    async close() {
      await Promise.all([gateway?.close(), mail?.close(), alerts?.close(), supplier?.close()]);
    },
  };
}

async function onFreePort<T>(start: (port: number) => Promise<T>, port: number, fromEnv: boolean, variable: string, what: string, log: Logger): Promise<T> {
  try {
    return await start(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (fromEnv) throw new ConfigError(`the ${what}'s port is already in use: set ${variable} to a free one`);
    log.warn({ port }, `the ${what}'s usual port is taken: it listens on a free one instead (see the URLs printed below)`);
    return start(0);
  }
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ConfigError(`${name} must be a whole number from 0 to 65535, not "${raw}"`);
  return value;
}
