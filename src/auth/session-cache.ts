import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { deleteSession, findSessionUser, type User } from './users.repository.ts';

/**
 * Signed-in users by session token, remembered for a moment so that a page
 * (and above all a 304) costs one query instead of two. The trade-off: a
 * session ended elsewhere (another process signing it out, expiry, a deleted
 * user) keeps working in this process for at most SESSION_CACHE_MS. Signing
 * out through this process forgets the token at once.
 */
const SESSION_CACHE_MS = 2_000;

export interface SessionCache {
  find(token: string): Promise<User | undefined>;
  end(token: string): Promise<void>;
}

export function createSessionCache(pool: pg.Pool): SessionCache {
  const users = new LRUCache<string, User>({ max: 10_000, ttl: SESSION_CACHE_MS });
  return {
    async find(token) {
      const cached = users.get(token);
      if (cached) return cached;
      const user = await findSessionUser(pool, token);
      if (user) users.set(token, user);
      return user;
    },
    async end(token) {
      users.delete(token);
      await deleteSession(pool, token);
    },
  };
}
