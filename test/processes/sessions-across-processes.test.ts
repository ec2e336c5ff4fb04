import t from 'tap';
import { browser, processFleet } from './process-fleet.ts';

/** src/auth/session-cache.ts: how long a process may keep accepting a session ended elsewhere. */
const SESSION_CACHE_MS = 2_000;

/** Sign-in attempts a client address may make a minute, across every web process. */
const ATTEMPTS = 4;
const fleet = await processFleet(t);
const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => fleet.web(name, { LOGIN_ATTEMPTS_PER_MINUTE: String(ATTEMPTS) })));

t.test('a sign-in on one web process works on the others, and a sign-out there is refused everywhere within the session cache\'s 2 s', async (t) => {
  const ann = browser();
  t.equal(await ann.apiStatus(b!.url), 401, 'before signing in, B refuses the API');

  await ann.signIn(a!.url);
  t.same(await Promise.all([a, b, c].map((web) => ann.apiStatus(web!.url))), [200, 200, 200], 'the cookie from A works on A, B and C');

  // B and C have just remembered the session (their cache is filled): from now on each may accept it for at most 2 s.
  const remembered = Date.now();
  const token = sessionOf(ann);
  const signOut = await ann.submit(`${a!.url}/login`, `${a!.url}/logout`, {});
  t.equal(signOut.status, 303, 'signed out on A');
  // The browser dropped the cleared cookie: send the old one, as a stale or stolen copy would be.
  const stale = { apiStatus: (base: string) => apiStatusWith(base, token) };
  t.equal(await stale.apiStatus(a!.url), 401, 'A refuses it at once (it forgot the token when signing out)');

  const bStillAccepts = await stale.apiStatus(b!.url);
  if (Date.now() - remembered < SESSION_CACHE_MS / 2) {
    // Proof that the bound is the cache's: right after the sign-out B still answers from its memory.
    t.equal(bStillAccepts, 200, 'B still accepts it for a moment (the cache: this is the trade-off the bound limits)');
  }

  // Ask B and C again and again until a request sent after the bound has been answered. Every
  // request sent once the bound has passed must be refused: the processes cached the session no
  // later than \`remembered\`, so whatever its latency, such a request finds the entry expired.
  const bound = remembered + SESSION_CACHE_MS;
  const asked = await Promise.all([b, c].map(async (web) => {
    const answers: { sentAt: number; status: number }[] = [];
    for (;;) {
      const sentAt = Date.now();
      answers.push({ sentAt, status: await stale.apiStatus(web!.url) });
      if (sentAt > bound) return answers;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }));
  for (const [i, answers] of asked.entries()) {
    const after = answers.filter((answer) => answer.sentAt > bound);
    t.same(after.map((answer) => answer.status), after.map(() => 401), `${'BC'[i]} refused every request sent after the bound`);
    const firstRefusal = answers.find((answer) => answer.status === 401);
    t.comment(`${'BC'[i]} first refused a request sent ${firstRefusal ? firstRefusal.sentAt - remembered : '?'} ms after it last looked the session up (bound ${SESSION_CACHE_MS} ms)`);
  }
  // And once the bound has passed, every process refuses it, every time.
  t.same(await Promise.all([a, b, c].map((web) => stale.apiStatus(web!.url))), [401, 401, 401], 'after the bound: refused on A, B and C');
});

async function apiStatusWith(base: string, token: string): Promise<number> {
  const response = await fetch(`${base}/api/stats/agents`, { headers: { cookie: `tanktop_session=${token}` } });
  await response.arrayBuffer();
  return response.status;
}

t.test('sign-in attempts are counted across the web processes, not per process', async (t) => {
  // The first test signed in once on A: one attempt of this address's minute.
  const wrong = (base: string) => browser().submit(`${base}/login`, `${base}/login`, { name: 'ann', password: 'wrong horse', next: '/' })
    .then(async (response) => { await response.arrayBuffer(); return response.status; });
  const statuses = [];
  for (const web of [b, c, a, b, c]) statuses.push(await wrong(web!.url));
  // Counted per process, B and C would each have seen at most two attempts, and refused none.
  t.same(statuses, [401, 401, 401, 429, 429], `${ATTEMPTS} attempts a minute in all, whichever process takes them`);
});

/** The session token in a browser's cookie jar. */
function sessionOf(b: ReturnType<typeof browser>): string {
  return /tanktop_session=([^;]+)/.exec(b.cookies.header())?.[1] ?? '';
}
