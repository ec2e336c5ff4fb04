import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { DatabaseUnavailableError } from '../../src/db/connection-check.ts';
import { chooseDataDir, RELOCATED_DATA_ROOT } from '../../src/db/embedded-postgres-data-dir.ts';
import { serverUser } from '../../src/db/embedded-postgres-user.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { testLog } from '../helpers/database.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');
// Under the project's .data/, or where the default data directory goes when the
// postgres system user cannot reach that (root, a clone in a private folder).
const reachable = async (name: string) => chooseDataDir(path.join(projectRoot, '.data', name), true, await serverUser());
const dataDir = await reachable(`test-embedded-${process.pid}`);
t.teardown(() => removeCluster(dataDir));

/** The data directory, its password and leases, and the folder under /var/lib/tanktop holding them when it was moved there. */
async function removeCluster(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rm(`${dir}.password`, { force: true });
  await rm(`${dir}.leases`, { recursive: true, force: true });
  if (dir.startsWith(`${RELOCATED_DATA_ROOT}/`)) await rm(path.dirname(dir), { recursive: true, force: true });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answers(adminUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function holdServer(port: number) {
  const child = spawn(process.execPath, [path.join(projectRoot, 'test/helpers/hold-embedded-postgres.ts'), dataDir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return { child, ready };
}

t.test('a port taken by another program is one clear sentence', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => blocker.close(resolve)));
  const { port } = blocker.address() as net.AddressInfo;
  await t.rejects(startEmbeddedPostgres({ dataDir, port, log: testLog }), new DatabaseUnavailableError(
    `port ${port} is already in use by another program, so the embedded Postgres cannot start there; set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use an existing Postgres`));
});

t.test('a server left running by a killed run is detected, stopped and started afresh', async (t) => {
  const port = await freePort();
  const { child, ready } = holdServer(port);
  await ready;
  child.kill('SIGKILL'); // as if the terminal was closed: Postgres keeps running, owner gone
  await new Promise((resolve) => child.on('exit', resolve));
  t.ok(existsSync(path.join(dataDir, 'postmaster.pid')), 'the orphaned server still holds the data directory');

  const server = await startEmbeddedPostgres({ dataDir, port, log: testLog });
  t.ok(await answers(server.adminUrl), 'started again and answering');
  await server.stop();
  t.notOk(existsSync(path.join(dataDir, 'postmaster.pid')), 'stop leaves no server behind');
  t.notOk(await answers(server.adminUrl), 'and nothing answers any more');
});

t.test('a server another live process runs is shared, not stopped', async (t) => {
  const port = await freePort();
  const { child, ready } = holdServer(port);
  await ready;
  const shared = await startEmbeddedPostgres({ dataDir, port, log: testLog });
  t.ok(await answers(shared.adminUrl));
  await shared.stop();
  t.ok(await answers(shared.adminUrl), 'still running for its owner');
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  t.notOk(await answers(shared.adminUrl), 'its owner stopped it');
});

t.test('the process that started the server can leave first: the server runs on for the others, and the last to leave stops it', async (t) => {
  const port = await freePort();
  const { child, ready } = holdServer(port);
  await ready;
  const joined = await startEmbeddedPostgres({ dataDir, port, log: testLog });
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  t.ok(await answers(joined.adminUrl), 'still running for the process that joined it');
  await joined.stop();
  t.notOk(await answers(joined.adminUrl), 'the last to leave stopped it');
  t.notOk(existsSync(path.join(dataDir, 'postmaster.pid')), 'and nothing holds the data directory');
});

/** Where the connection arrived: null over a Unix socket, the server's address over TCP. */
async function serverAddress(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ addr: string | null }>('select host(inet_server_addr()) as addr')).rows[0]!.addr;
  } finally {
    await client.end();
  }
}

t.test('the server is reached over its Unix socket in the data directory, and still listens on TCP for other tools', async (t) => {
  const port = await freePort();
  const server = await startEmbeddedPostgres({ dataDir, port, log: testLog });
  t.teardown(() => server.stop());
  const url = new URL(server.adminUrl);
  t.equal(url.searchParams.get('host'), dataDir, 'the URL names the socket directory');
  t.equal(await serverAddress(server.adminUrl), null, 'a Unix socket connection');
  url.searchParams.delete('host');
  t.equal(await serverAddress(url.toString()), '127.0.0.1', 'TCP on 127.0.0.1 answers too');
});

t.test('a data directory whose socket path would not fit a socket address is reached over TCP alone', async (t) => {
  const longDir = await reachable(`test-embedded-long-${process.pid}-${'x'.repeat(110)}`);
  t.teardown(() => removeCluster(longDir));
  const server = await startEmbeddedPostgres({ dataDir: longDir, port: await freePort(), log: testLog });
  t.teardown(() => server.stop());
  t.equal(new URL(server.adminUrl).searchParams.get('host'), null, 'no socket directory in the URL');
  t.equal(await serverAddress(server.adminUrl), '127.0.0.1');
});
