/** Progress lines on stderr, stamped with the time since the start (the ingest benchmark's). */
export { int, note } from '../ingest/progress.ts';
