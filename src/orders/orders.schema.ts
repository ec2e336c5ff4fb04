/** Kysely table types of the order workflow (orders, payments, invoices, inbox…). */
export interface OrderTables {}
