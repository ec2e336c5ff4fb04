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
    case SqlState.archivedMonthWrite:
    case SqlState.archivedRebuild:
    case SqlState.archivedTimeZone:
    case SqlState.archiveMonthRefused:
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

/** SQLSTATE class 22 (data exception), by code: what the client sent that the database could not use. */
const dataExceptionSentences: Record<string, string> = {
  [SqlState.characterNotInRepertoire]: 'The request contains a character that cannot be stored (such as a NUL): remove it and try again.',
  [SqlState.datetimeFieldOverflow]: 'A date in the request is outside the range this site handles.',
  [SqlState.invalidDatetimeFormat]: 'A date in the request is not one this site can read: write it YYYY-MM-DD.',
  [SqlState.numericValueOutOfRange]: 'A number in the request is too large.',
  [SqlState.invalidTextRepresentation]: 'A value in the request is not in the form expected (a number where a number belongs, for example).',
  [SqlState.stringDataRightTruncation]: 'A text in the request is too long.',
};

/**
 * The sentence an HTTP client may read for a database error its request
 * caused, or undefined (a fault of ours: a 500). Never the database's own
 * text, which names tables and columns and echoes values back: only the
 * constraint sentences above, our own TTxxx messages (written for people),
 * and a fixed sentence per data exception. Validation before SQL is the
 * defence (src/http/input.ts); this is the net under it.
 */
export function describeDatabaseErrorForClient(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, constraint, message } = error as PgErrorLike;
  if (typeof code !== 'string') return undefined;
  if (constraint && constraintMessages[constraint]) return constraintMessages[constraint];
  switch (code) {
    case SqlState.unknownTimeZone:
    case SqlState.emptyRebuildRange:
    case SqlState.archivedMonthWrite:
    case SqlState.invoiceImmutable:
    case SqlState.invoiceNumberGiven:
      return message;
    case SqlState.checkViolation:
    case SqlState.notNullViolation:
    case SqlState.uniqueViolation:
    case SqlState.foreignKeyViolation:
      return 'This could not be saved: it conflicts with what is already stored, or leaves out something required.';
  }
  if (code.startsWith('22')) return dataExceptionSentences[code] ?? 'A value in the request cannot be used: check what you entered and try again.';
  return undefined;
}
