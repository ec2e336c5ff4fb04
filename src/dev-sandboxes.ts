import { ConfigError } from './config.ts';
import type { Logger } from './logger.ts';
import { gatewaySandboxClient } from './sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox, type GatewaySandbox } from './sandboxes/gateway/gateway-sandbox.ts';
import { startMailSandbox, type MailSandbox } from './sandboxes/mail/mail-sandbox.ts';

/**
 * `make start` on a developer's machine: the payment gateway sandbox and the
 * mail sandbox stand in for Stripe and an SMTP provider whenever the real ones
 * are not configured, so the shop can be tried end to end with no account
 * anywhere:
 * - the gateway sandbox when STRIPE_API_BASE is unset and STRIPE_SECRET_KEY is
 *   unset or the sandbox's own key (sk_test_tanktop…): a real key without an
 *   API base means api.stripe.com, which we never stand in for;
 * - the mail sandbox when SMTP_URL is unset.
 * DEV_SANDBOXES=off starts neither (a production machine should say so).
 */

export const DEV_SANDBOX_DEFAULTS = Object.freeze({ gatewayPort: 12111, smtpPort: 2525, mailboxPort: 8025, host: '127.0.0.1' });
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

export interface DevSandboxes {
  /** What the app and the worker must use instead (STRIPE_API_BASE, SMTP_URL), for the sandboxes started. */
  readonly env: Readonly<Record<string, string>>;
  /** The payment sandbox's URL (hosted pages, control API), if started. */
  readonly gatewayUrl: string | undefined;
  /** The mailbox (pages to read what was sent) and its SMTP address, if started. */
  readonly mail: { readonly httpUrl: string; readonly smtpUrl: string } | undefined;
  /** Where the gateway sandbox posts its events: the app's /webhooks/stripe, known once the app listens. */
  setWebhookUrl(url: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts what planDevSandboxes asks for. A default port that is taken (another
 * checkout of the project running, a test) gives way to a free one, with a
 * warning; a port named in the environment must be free.
 */
export async function startDevSandboxes(env: NodeJS.ProcessEnv, log: Logger): Promise<DevSandboxes> {
  const plan = planDevSandboxes(env);
  let gateway: GatewaySandbox | undefined;
  let mail: MailSandbox | undefined;
  try {
    if (plan.gateway) {
      const { host, port: wanted, portFromEnv, publicUrl } = plan.gateway;
      const start = (port: number) => startGatewaySandbox({
        host, port, publicUrl, webhookSecret: env.STRIPE_WEBHOOK_SECRET || WEBHOOK_SECRET_DEFAULT, log: log.child({ component: 'gateway-sandbox' }),
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
  } catch (error) {
    await gateway?.close();
    await mail?.close();
    throw error;
  }

  const overrides: Record<string, string> = {};
  if (gateway) overrides.STRIPE_API_BASE = gateway.url;
  if (mail) overrides.SMTP_URL = mail.smtpUrl;
  return {
    env: Object.freeze(overrides),
    gatewayUrl: gateway?.url,
    mail: mail && { httpUrl: mail.httpUrl, smtpUrl: mail.smtpUrl },
    async setWebhookUrl(url) {
      if (gateway) await gatewaySandboxClient(gateway.url).configure({ webhookUrl: url });
    },
    async close() {
      await Promise.all([gateway?.close(), mail?.close()]);
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
