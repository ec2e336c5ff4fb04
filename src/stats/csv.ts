/**
 * RFC 4180 CSV: CRLF line ends; a field with a comma, quote, CR or LF is
 * quoted and its quotes doubled. A field starting with = + - @ (or tab/CR)
 * gets a leading apostrophe so spreadsheets do not run it as a formula
 * (OWASP "CSV injection"): names are customer-supplied.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvLine(fields: string[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}
