/** Kysely table types of the email outbox. */
export interface EmailTables {}
