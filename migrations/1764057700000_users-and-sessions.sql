-- Up Migration

-- People who may read the stats pages (they show customers' personal data).
-- Passwords are stored only as scrypt hashes, in the self-describing form
-- scrypt$N$r$p$salt$hash (base64url), so the cost can rise later without a
-- migration: a stored hash carries the parameters it was made with.
create table users (
  id bigint generated always as identity primary key,
  name text not null constraint users_name_valid check (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
  password_hash text not null constraint users_password_hash_scrypt check (password_hash like 'scrypt$%'),
  created_at timestamptz not null default now()
);
-- Ann and ann are one user.
create unique index users_name_unique on users (lower(name));

-- Server-side sessions: the cookie holds a random token, the table holds only
-- its SHA-256, so a leaked copy of the table opens no session. Logging out
-- deletes the row, which ends the session at once (a signed stateless cookie
-- would stay valid until it expired).
create table user_sessions (
  token_hash bytea primary key,
  user_id bigint not null constraint user_sessions_user_id_fkey references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index user_sessions_user_id_idx on user_sessions (user_id);
create index user_sessions_expires_at_idx on user_sessions (expires_at);

-- Down Migration

drop table user_sessions;
drop table users;
