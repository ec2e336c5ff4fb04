/**
 * The supplier signs as the gateway does (docs/supplier-api.md, Webhooks):
 * one check for both routes, in src/webhooks/webhook-signature.ts.
 */
export {
  checkWebhookSignature as checkSupplierSignature,
  webhookSignatureHeader as supplierSignatureHeader,
  type SignatureCheck,
} from '../webhooks/webhook-signature.ts';
