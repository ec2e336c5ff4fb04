import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';

export interface User {
  id: string;
  name: string;
}

export async function insertUser(pool: pg.Pool, name: string, passwordHash: string): Promise<User> {
  const { rows } = await pool.query<User>(
    'insert into users (name, password_hash) values ($1, $2) returning id, name', [name, passwordHash]);
  return rows[0]!;
}

/** ('tank', 300): creators of the first user take turns (src/db keys: 1 rollups, 2 migrations, 100, 200 jobs). */
const FIRST_USER_LOCK = 'select pg_advisory_xact_lock(1952541803, 300)';

/**
 * The first user, or undefined when a user already exists: exactly one of any
 * number of concurrent callers, in any number of processes, creates it.
 * `where not exists` alone is not enough: two transactions that both start
 * before either commits each see an empty table and each insert (different
 * names break no unique key). So callers take an advisory lock first, held
 * until commit; in READ COMMITTED the insert that follows runs on a snapshot
 * taken after the lock was granted, and so sees a first user committed by
 * whoever held the lock before. (In one statement the snapshot would predate
 * the wait.) The lock blocks nobody else: `npm run user -- add` and logins
 * never take it.
 */
export async function insertFirstUser(pool: pg.Pool, name: string, passwordHash: string): Promise<User | undefined> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    await client.query(FIRST_USER_LOCK);
    const { rows } = await client.query<User>(
      `insert into users (name, password_hash) select $1, $2 where not exists (select from users)
       returning id, name`, [name, passwordHash]);
    await client.query('commit');
    return rows[0];
  } catch (error) {
    await client.query('rollback').catch(() => (broken = true));
    throw error;
  } finally {
    // A connection that could not even roll back is closed, not handed to the next caller.
    client.release(broken);
  }
}

export async function usersExist(pool: pg.Pool): Promise<boolean> {
  const { rows } = await pool.query<{ exist: boolean }>('select exists (select from users) as exist');
  return rows[0]?.exist ?? false;
}

export async function findUserForLogin(pool: pg.Pool, name: string): Promise<(User & { password_hash: string }) | undefined> {
  const { rows } = await pool.query<User & { password_hash: string }>(
    'select id, name, password_hash from users where lower(name) = lower($1)', [name]);
  return rows[0];
}

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** A new session; returns the token for the cookie (the table keeps only its hash). */
export async function createSession(pool: pg.Pool, userId: string, ttlHours: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await pool.query(
    `insert into user_sessions (token_hash, user_id, expires_at) values ($1, $2, now() + make_interval(hours => $3))`,
    [tokenHash(token), userId, ttlHours],
  );
  // Expired rows are swept here, at sign-in, rather than by a job: cheap (indexed) and rare.
  await pool.query('delete from user_sessions where expires_at < now()');
  return token;
}

export async function findSessionUser(pool: pg.Pool, token: string): Promise<User | undefined> {
  const { rows } = await pool.query<User>(
    `select u.id, u.name from user_sessions as s join users as u on u.id = s.user_id
     where s.token_hash = $1 and s.expires_at > now()`,
    [tokenHash(token)],
  );
  return rows[0];
}

export async function deleteSession(pool: pg.Pool, token: string): Promise<void> {
  await pool.query('delete from user_sessions where token_hash = $1', [tokenHash(token)]);
}
