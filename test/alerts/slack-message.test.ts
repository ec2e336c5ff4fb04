import t from 'tap';
import { containsEmailAddress, redactEmailAddresses } from '../../src/alerts/alert-content.ts';
import { slackMessage, type AlertForMessage } from '../../src/alerts/slack-message.ts';

const alert: AlertForMessage = {
  id: '17',
  incidentKey: 'supplier_failed:42',
  severity: 'critical',
  title: 'Supplier unreachable for order TT-AB12-CD34',
  text: 'Retries ran out.',
  orderId: '42',
  orderNumber: 'TT-AB12-CD34',
  occurrences: 3,
  firstRaisedAt: new Date('2026-03-01T10:00:30Z'),
  lastRaisedAt: new Date('2026-03-01T10:05:59Z'),
};

t.test('an alert becomes a header with the severity emoji, its text, and the order, occurrences, severity and incident as fields', async (t) => {
  t.same(slackMessage(alert), {
    text: ':rotating_light: Critical: Supplier unreachable for order TT-AB12-CD34 · order TT-AB12-CD34 (id 42) · 3 times',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: ':rotating_light: Supplier unreachable for order TT-AB12-CD34', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: 'Retries ran out.' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Order*\nTT-AB12-CD34 (id 42)' },
          { type: 'mrkdwn', text: '*Occurrences*\n3 (first 2026-03-01 10:00 UTC, last 2026-03-01 10:05 UTC)' },
          { type: 'mrkdwn', text: '*Severity*\nCritical' },
          { type: 'mrkdwn', text: '*Incident*\n`supplier_failed:42`' },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Tanktop alert 17' }] },
    ],
  });
});

t.test('a warning without text or order has no text block and no order field', async (t) => {
  const message = slackMessage({ ...alert, severity: 'warning', text: '', orderId: null, orderNumber: null, occurrences: 1 });
  t.equal(message.text, ':warning: Warning: Supplier unreachable for order TT-AB12-CD34');
  t.same(message.blocks.map((block) => block.type), ['header', 'section', 'context']);
  t.same(message.blocks[1], { type: 'section', fields: [
    { type: 'mrkdwn', text: '*Occurrences*\n1 (2026-03-01 10:00 UTC)' },
    { type: 'mrkdwn', text: '*Severity*\nWarning' },
    { type: 'mrkdwn', text: '*Incident*\n`supplier_failed:42`' },
  ] });
});

t.test('Slack\'s control characters are escaped, so a text cannot mention @channel or hide a link', async (t) => {
  const message = slackMessage({ ...alert, title: 'A & B <b>', text: 'Ping <!channel> and <https://evil.example|click>' });
  const json = JSON.stringify(message);
  t.notMatch(json, '<!channel>');
  t.notMatch(json, '<https://');
  t.match(message.blocks[1], { text: { text: 'Ping &lt;!channel&gt; and &lt;https://evil.example|click&gt;' } });
  t.equal(message.text, ':rotating_light: Critical: A &amp; B &lt;b&gt; · order TT-AB12-CD34 (id 42) · 3 times');
  t.equal((message.blocks[0] as { text: { text: string } }).text.text, ':rotating_light: A & B <b>', 'a header is plain text: nothing to escape');
});

t.test('an e-mail address in a row written around raiseAlert is blanked out of the message', async (t) => {
  const message = JSON.stringify(slackMessage({ ...alert, title: 'Order of ann@example.com failed', text: 'Write to bob.smith+x@mail.example.co.uk' }));
  t.notOk(containsEmailAddress(message));
  t.match(message, 'Order of [e-mail address] failed');
});

t.test('the e-mail pattern finds addresses and leaves the rest alone', async (t) => {
  for (const address of ['ann@example.com', 'a.b+c@mail.example.co.uk', 'zoë@exämple.de', 'x_y-z@sub.domain.io']) t.ok(containsEmailAddress(`see ${address}.`), address);
  for (const text of ['@channel', 'ann@localhost', 'order TT-AB12-CD34', 'dead_letter:order__refund:5d7e-…', 'a @ b.com']) t.notOk(containsEmailAddress(text), text);
  t.equal(redactEmailAddresses('ann@example.com, bob@example.org'), '[e-mail address], [e-mail address]');
});

t.test('a long title is cut to fit Slack\'s header, without splitting an emoji', async (t) => {
  const message = slackMessage({ ...alert, title: '🚚'.repeat(200) });
  const header = (message.blocks[0] as { text: { text: string } }).text.text;
  t.equal([...header].length, 150);
  t.ok(header.endsWith('🚚…'));
});
