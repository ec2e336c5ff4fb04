/** SQLSTATE codes the application reacts to: Postgres's own and ours (TTxxx, raised by sql/). */
export const SqlState = Object.freeze({
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  invalidTextRepresentation: '22P02',
  numericValueOutOfRange: '22003',
  invalidDatetimeFormat: '22007',
  datetimeFieldOverflow: '22008',
  /** A NUL in text, or bytes that are not the database's encoding. */
  characterNotInRepertoire: '22021',
  stringDataRightTruncation: '22001',
  invalidPassword: '28P01',
  invalidAuthorization: '28000',
  unknownDatabase: '3D000',
  insufficientPrivilege: '42501',
  cannotConnectNow: '57P03',
  deadlockDetected: '40P01',
  serializationFailure: '40001',
  /** set_stats_time_zone: not an IANA time zone name. */
  unknownTimeZone: 'TT001',
  /** rebuild_daily_sales_stats: from_day after to_day. */
  emptyRebuildRange: 'TT002',
  /** A sale dated in an archived month (sql/045_ensure_sales_partitions.sql, sql/075_archive_sales.sql). */
  archivedMonthWrite: 'TT020',
  /** rebuild_daily_sales_stats: the range names archived days, whose sales are gone. */
  archivedRebuild: 'TT021',
  /** set_stats_time_zone: months are archived, their stats cannot be recounted in another zone. */
  archivedTimeZone: 'TT022',
  /** archive_sales_before: the current month or a later one. */
  archiveMonthRefused: 'TT023',
  /** invoices: an issued invoice or credit note was updated or deleted (sql/100_invoices_immutable.sql). */
  invoiceImmutable: 'TT010',
  /** invoices: inserted with a number of its own (numbers are given at commit: sql/110_allocate_invoice_number.sql). */
  invoiceNumberGiven: 'TT011',
});
