import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { hashPassword } from '../src/auth/password.ts';
import { insertUser } from '../src/auth/users.repository.ts';
import { freshDatabase } from './helpers/database.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

/** Starts src/server.ts as `make start` does, waits for its URL, then Ctrl-C (SIGINT). */
async function startAndStop(env: Record<string, string>, whileRunning: (url: string) => Promise<void>) {
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/server.ts')], {
    cwd: projectRoot, env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s; stderr: ${stderr}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const match = /Tanktop is running at (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`)));
  });
  await whileRunning(url);
  child.kill('SIGINT');
  const code = await exited;
  return { code, stdout, stderr };
}

t.test('the service starts on an empty database, loads the demo, says how to create a user, and stops on Ctrl-C', async (t) => {
  const { url, pool } = await freshDatabase(t);
  const result = await startAndStop({ DATABASE_URL: url, DEMO_SALES: '500' }, async (base) => {
    const health = await fetch(`${base}/healthz`);
    t.equal(health.status, 200, '/healthz answers while it runs');
    const page = await fetch(`${base}/`, { redirect: 'manual' });
    t.equal(page.status, 303, 'pages ask for a sign-in');
  });
  t.equal(result.code, 0, 'exits cleanly');
  t.match(result.stdout, /No users yet[\s\S]*npm run user -- add NAME/, 'prints how to create the first user');
  t.match(result.stderr, /"msg":"shutting down"[\s\S]*"msg":"stopped"/, 'logs its orderly shutdown');
  const { rows } = await pool.query('select count(*)::int as sales from sales');
  t.equal(rows[0].sales, 500, 'the demo data set was loaded');
  const { rows: diff } = await pool.query('select count(*)::int as n from verify_daily_sales_stats()');
  t.equal(diff[0].n, 0, 'and its rollups are exact');
});

t.test('with a user and data present it loads nothing and prints no hint', async (t) => {
  const { url, pool } = await freshDatabase(t);
  await insertUser(pool, 'ann', await hashPassword('a long enough password'));
  await pool.query(`insert into customers (name, email) values ('A', 'a@example.com')`);
  const result = await startAndStop({ DATABASE_URL: url, DEMO_SALES: '500' }, async () => {});
  t.equal(result.code, 0);
  t.notMatch(result.stdout, /No users yet/);
  const { rows } = await pool.query('select count(*)::int as sales from sales');
  t.equal(rows[0].sales, 0, 'a database with data gets no demo');
});
