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

export async function findUserForLogin(pool: pg.Pool, name: string): Promise<(User & { password_hash: string }) | undefined> {
  const { rows } = await pool.query<User & { password_hash: string }>(
    'select id, name, password_hash from users where lower(name) = lower($1)', [name]);
  return rows[0];
}

export async function countUsers(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('select count(*) as n from users');
  return Number(rows[0]?.n ?? 0);
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
