import { createHash } from 'node:crypto';
import net from 'node:net';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import t, { type Test } from 'tap';
import { startMailSandbox, type MailSandbox } from '../../src/sandboxes/mail/mail-sandbox.ts';
import { createMailStore } from '../../src/sandboxes/mail/mail-store.ts';
import { testLog } from '../helpers/database.ts';
import { finished, startSandboxCli } from '../helpers/sandbox-cli.ts';

async function sandboxFor(t: Test): Promise<MailSandbox> {
  const sandbox = await startMailSandbox({ log: testLog });
  t.teardown(() => sandbox.close());
  return sandbox;
}

/** A plain nodemailer transport (no pool): each send is its own SMTP session. */
function transportFor(t: Test, sandbox: MailSandbox, options: { auth?: { user: string; pass: string } } = {}) {
  const transport = nodemailer.createTransport({ url: sandbox.smtpUrl, connectionTimeout: 2000, greetingTimeout: 2000, socketTimeout: 5000, ...options });
  t.teardown(() => transport.close());
  return transport;
}

async function json(url: string): Promise<any> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return response.json();
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

t.test('a message sent over SMTP is in the JSON API with its parts and its attachments\' hashes', async (t) => {
  const sandbox = await sandboxFor(t);
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(5000, 7)]);
  const csv = Buffer.from('a,b\r\n1,2\r\n');
  await transportFor(t, sandbox).sendMail({
    from: 'Shop <shop@example.com>',
    to: 'Ann <ann@example.com>, bob@example.com',
    subject: 'Hello there',
    messageId: '<m1@example.com>',
    text: 'plain body',
    html: '<p>html body</p>',
    attachments: [
      { filename: 'invoice.pdf', contentType: 'application/pdf', content: pdf },
      { filename: 'rows.csv', contentType: 'text/csv', content: csv },
    ],
  });
  const messages = await json(`${sandbox.httpUrl}/api/messages`);
  t.equal(messages.length, 1);
  t.match(messages[0], {
    id: '1',
    messageId: '<m1@example.com>',
    from: 'Shop <shop@example.com>',
    to: ['ann@example.com', 'bob@example.com'],
    subject: 'Hello there',
    text: 'plain body',
    html: '<p>html body</p>',
    attachments: [
      { filename: 'invoice.pdf', contentType: 'application/pdf', size: pdf.length, sha256: sha256(pdf) },
      { filename: 'rows.csv', contentType: 'text/csv', size: csv.length, sha256: sha256(csv) },
    ],
  });
  t.ok(!Number.isNaN(Date.parse(messages[0].date)), 'the date is an ISO timestamp');

  const download = await fetch(`${sandbox.httpUrl}/api/messages/1/attachments/0`);
  t.equal(download.status, 200);
  t.equal(download.headers.get('content-type'), 'application/pdf');
  t.equal(download.headers.get('content-disposition'), `attachment; filename="invoice.pdf"; filename*=UTF-8''invoice.pdf`);
  t.equal(download.headers.get('x-content-type-options'), 'nosniff');
  t.equal(sha256(new Uint8Array(await download.arrayBuffer())), sha256(pdf));
  t.equal((await fetch(`${sandbox.httpUrl}/api/messages/1/attachments/2`)).status, 404);
  t.equal((await fetch(`${sandbox.httpUrl}/api/messages/9/attachments/0`)).status, 404);
});

t.test('AUTH is optional: a client with credentials and one without both deliver', async (t) => {
  const sandbox = await sandboxFor(t);
  await transportFor(t, sandbox, { auth: { user: 'someone', pass: 'anything' } }).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'with auth', text: 'x' });
  await transportFor(t, sandbox).sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'without auth', text: 'x' });
  const subjects = (await json(`${sandbox.httpUrl}/api/messages`)).map((message: { subject: string }) => message.subject);
  t.same(subjects, ['without auth', 'with auth'], 'newest first');
});

t.test('the server offers AUTH and a 10 MB SIZE, and no STARTTLS', async (t) => {
  const sandbox = await sandboxFor(t);
  const url = new URL(sandbox.smtpUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  t.teardown(() => socket.destroy());
  let received = '';
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('utf8');
    waiting?.();
  });
  const until = (pattern: RegExp) => new Promise<void>((resolve) => {
    waiting = () => (pattern.test(received) ? resolve() : undefined);
    waiting();
  });
  await until(/^220 .*\r\n/m);
  socket.write('EHLO test.example.com\r\n');
  await until(/^250 .*\r\n/m);
  t.match(received, /^250-AUTH .*PLAIN/m);
  t.match(received, /^250[- ]SIZE 10485760\r$/m);
  t.notMatch(received, /STARTTLS/);
  socket.write('QUIT\r\n');
});

t.test('rejectNext makes the next messages fail with a temporary 451, then mail flows again', async (t) => {
  const sandbox = await sandboxFor(t);
  const faults = await fetch(`${sandbox.httpUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rejectNext: 2 }) });
  t.same(await faults.json(), { rejectNext: 2 });
  const transport = transportFor(t, sandbox);
  const send = (subject: string) => transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject, text: 'x' });
  for (const subject of ['first', 'second']) {
    const refusal = await send(subject).then(() => undefined, (error: { responseCode?: number }) => error);
    t.equal(refusal?.responseCode, 451, `${subject}: refused with 451`);
  }
  await send('third');
  const messages = await json(`${sandbox.httpUrl}/api/messages`);
  t.same(messages.map((message: { subject: string }) => message.subject), ['third'], 'refused messages are not kept');
  t.same(await json(`${sandbox.httpUrl}/_sandbox/faults`), { rejectNext: 0 });
});

t.test('a fault request that is not a whole number is refused', async (t) => {
  const sandbox = await sandboxFor(t);
  for (const body of [{ rejectNext: -1 }, { rejectNext: 1.5 }, { rejectNext: 'two' }, {}]) {
    const response = await fetch(`${sandbox.httpUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    t.equal(response.status, 400, JSON.stringify(body));
  }
  t.same(await json(`${sandbox.httpUrl}/_sandbox/faults`), { rejectNext: 0 });
});

t.test('stopSmtp refuses connections and startSmtp listens on the same port again; the mailbox stays', async (t) => {
  const sandbox = await sandboxFor(t);
  const transport = transportFor(t, sandbox);
  const send = (subject: string) => transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject, text: 'x' });
  await send('before');
  await sandbox.stopSmtp();
  await t.rejects(send('while down'), /ECONNREFUSED/);
  t.equal((await json(`${sandbox.httpUrl}/api/messages`)).length, 1, 'the mailbox answers while SMTP is down');
  await sandbox.startSmtp();
  await send('after');
  t.same((await json(`${sandbox.httpUrl}/api/messages`)).map((message: { subject: string }) => message.subject), ['after', 'before']);
});

t.test('DELETE /api/messages empties the mailbox; ids are not reused', async (t) => {
  const sandbox = await sandboxFor(t);
  const transport = transportFor(t, sandbox);
  await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'one', text: 'x' });
  const deleted = await fetch(`${sandbox.httpUrl}/api/messages`, { method: 'DELETE' });
  t.equal(deleted.status, 204);
  t.same(await json(`${sandbox.httpUrl}/api/messages`), []);
  await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'two', text: 'x' });
  t.match(await json(`${sandbox.httpUrl}/api/messages`), [{ id: '2', subject: 'two' }]);
});

t.test('the mailbox pages list and show messages with everything from the message escaped', async (t) => {
  const sandbox = await sandboxFor(t);
  const html = '<p onclick="steal()">Hi "there" & <b>bold</b></p><script>alert(1)</script>';
  await transportFor(t, sandbox).sendMail({
    from: '"Eve <script>" <eve@example.com>',
    to: 'ann@example.com',
    subject: '<img src=x onerror=alert(1)> invoice',
    text: 'text <i>part</i> & more',
    html,
    attachments: [{ filename: '<evil>".pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7') }],
  });

  const list = await fetch(`${sandbox.httpUrl}/`);
  t.equal(list.status, 200);
  t.match(list.headers.get('content-type'), 'text/html');
  t.match(list.headers.get('content-security-policy'), "default-src 'none'");
  const listHtml = await list.text();
  t.match(listHtml, '&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; invoice');
  t.notMatch(listHtml, '<img');
  t.notMatch(listHtml, '<script');
  t.match(listHtml, '<a href="/messages/1">');
  t.match(listHtml, /<td class="n">1<\/td>/, 'the attachment count');

  const page = await fetch(`${sandbox.httpUrl}/messages/1`);
  t.equal(page.status, 200);
  const pageHtml = await page.text();
  t.notMatch(pageHtml, '<img');
  t.notMatch(pageHtml, '<script');
  t.notMatch(pageHtml, '<p onclick');
  t.match(pageHtml, '<pre>text &lt;i&gt;part&lt;/i&gt; &amp; more</pre>');
  const srcdoc = /<iframe sandbox srcdoc="([^"]*)"/.exec(pageHtml)?.[1];
  t.ok(srcdoc, 'the HTML part is in a sandboxed srcdoc iframe');
  const decoded = (srcdoc ?? '').replace(/&(lt|gt|quot|amp|#x27|#x60|#x3D);/g, (_m, entity: string) =>
    ({ lt: '<', gt: '>', quot: '"', amp: '&', '#x27': "'", '#x60': '`', '#x3D': '=' })[entity] ?? '');
  t.equal(decoded, html, 'the attribute decodes back to the HTML part, exactly');
  t.match(pageHtml, 'href="/messages/1/attachments/0"');
  t.match(pageHtml, '&lt;evil&gt;&quot;.pdf');

  const download = await fetch(`${sandbox.httpUrl}/messages/1/attachments/0`);
  t.equal(download.status, 200);
  t.equal(download.headers.get('content-type'), 'application/pdf');
  t.equal(download.headers.get('content-disposition'), `attachment; filename="<evil>_.pdf"; filename*=UTF-8''%3Cevil%3E%22.pdf`);
  t.equal(await download.text(), '%PDF-1.7');

  const missing = await fetch(`${sandbox.httpUrl}/messages/99`);
  t.equal(missing.status, 404);
});

t.test('the store keeps the newest messages within its count and byte limits', async (t) => {
  const store = createMailStore({ maxMessages: 2, maxBytes: 1000 });
  const envelope = { mailFrom: 'a@example.com', rcptTo: ['b@example.com'] };
  for (const subject of ['one', 'two', 'three']) {
    store.add(await simpleParser(`Subject: ${subject}\r\n\r\nbody\r\n`), envelope, 100);
  }
  t.same(store.list().map((message) => message.subject), ['three', 'two']);
  store.add(await simpleParser('Subject: big\r\n\r\nbody\r\n'), envelope, 950);
  t.same(store.list().map((message) => message.subject), ['big'], 'older messages make room for a big one');
  t.equal(store.get('4')?.subject, 'big');
  t.equal(store.get('1'), undefined);
});

const runSandboxCli = (args: string[], env: Record<string, string> = {}) => startSandboxCli('mail', args, { LOG_LEVEL: 'silent', ...env });

t.test('npm run sandbox:mail -- --help prints the usage and exits 0; a bad port is a usage error', async (t) => {
  const help = await finished(runSandboxCli(['--help']));
  t.equal(help.code, 0);
  t.match(help.stdout, 'Usage: npm run sandbox:mail');
  const bad = await finished(runSandboxCli(['--smtp-port', 'x']));
  t.equal(bad.code, 2);
  t.match(bad.stderr, '--smtp-port must be a whole number');
  const badEnv = await finished(runSandboxCli([], { MAIL_SANDBOX_HTTP_PORT: '99999' }));
  t.equal(badEnv.code, 3);
  t.match(badEnv.stderr, 'MAIL_SANDBOX_HTTP_PORT must be a whole number');
});

t.test('the sandbox CLI serves until SIGTERM, then stops cleanly', async (t) => {
  const child = runSandboxCli(['--smtp-port', '0', '--http-port', '0']);
  const result = finished(child);
  const httpUrl = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk;
      const match = /mailbox at (http:\/\/\S+)/.exec(seen);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('close', () => reject(new Error(`the CLI exited before it was ready: ${seen}`)));
  });
  t.same(await json(`${httpUrl}/api/messages`), []);
  child.kill('SIGTERM');
  const { code } = await result;
  t.equal(code, 0);
});
