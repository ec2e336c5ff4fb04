import { SqlState } from './sqlstate.ts';

/** The fields of a pg DatabaseError (or a socket error) that we read. */
interface PgErrorLike {
  code?: string;
  constraint?: string;
  message?: string;
  detail?: string;
}

/** Why each named constraint refuses a row, in words for the person who sent it. */
const constraintMessages: Record<string, string> = {
  customers_email_unique: 'a customer with this email address already exists',
  customers_email_valid: 'the email address is not valid',
  customers_name_not_blank: 'a customer needs a name',
  products_name_not_blank: 'a product needs a name',
  products_price_not_negative: 'a product price cannot be negative',
  sales_agents_name_not_blank: 'a sales agent needs a name',
  sales_price_not_negative: 'a sale price cannot be negative',
  sales_customer_id_fkey: 'the customer does not exist, or still has sales',
  sales_product_id_fkey: 'the product does not exist, or still has sales',
  sales_sales_agent_id_fkey: 'the sales agent does not exist, or still has sales',
};

/**
 * A one-sentence explanation of a database error, or undefined when the error
 * is not one we can explain (a bug: let it surface with its stack).
 */
export function describeDatabaseError(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint, message } = error as PgErrorLike;
  if (constraint && constraintMessages[constraint]) return constraintMessages[constraint];
  switch (code) {
    case SqlState.unknownTimeZone:
    case SqlState.emptyRebuildRange:
    case SqlState.invoiceImmutable:
    case SqlState.invoiceNumberGiven:
    case SqlState.checkViolation:
    case SqlState.notNullViolation:
    case SqlState.uniqueViolation:
    case SqlState.foreignKeyViolation:
    case SqlState.invalidTextRepresentation:
    case SqlState.invalidDatetimeFormat:
    case SqlState.datetimeFieldOverflow:
    case SqlState.numericValueOutOfRange:
      return message;
    case SqlState.insufficientPrivilege:
      return `the database user may not do this: ${message}`;
    default:
      return undefined;
  }
}
