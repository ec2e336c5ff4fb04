import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';

/**
 * Every relative link and image in README.md and docs/*.md points to a file
 * that exists, and every #anchor to a heading of the file it names (the
 * anchors GitHub makes of headings).
 */

const root = path.resolve(import.meta.dirname, '../..');

const documents = ['README.md', ...(await readdir(path.join(root, 'docs'))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The text with fenced code blocks and inline code taken out (links there are examples, not links). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
  for (const [, heading] of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const text = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

interface Link { from: string; target: string; line: number }

function links(file: string, markdown: string): Link[] {
  const text = prose(markdown);
  const found: Link[] = [];
  for (const match of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
    found.push({ from: file, target, line: text.slice(0, match.index).split('\n').length });
  }
  return found;
}

const all: Link[] = [];
for (const file of documents) all.push(...links(file, await readFile(path.join(root, file), 'utf8')));

t.test('the documents have links to check', async (t) => {
  t.ok(all.length > 50, `${all.length} relative links in ${documents.length} documents`);
});

t.test('every relative link and image points to a file or folder that exists', async (t) => {
  const broken: string[] = [];
  for (const { from, target } of all) {
    const [file] = target.split('#');
    if (!file) continue;
    const resolved = path.relative(root, path.resolve(root, path.dirname(from), decodeURI(file)));
    if (existsSync(path.join(root, resolved))) continue;
    broken.push(`${from}: ${target}`);
  }
  t.same(broken, [], 'no broken link');
});

t.test('every #anchor names a heading of the file it points to', async (t) => {
  const cache = new Map<string, Set<string>>();
  const broken: string[] = [];
  for (const { from, target } of all) {
    const at = target.indexOf('#');
    if (at < 0) continue;
    const file = target.slice(0, at) ? path.relative(root, path.resolve(root, path.dirname(from), decodeURI(target.slice(0, at)))) : from;
    if (!file.endsWith('.md') || !existsSync(path.join(root, file))) continue;
    if (!cache.has(file)) cache.set(file, anchors(await readFile(path.join(root, file), 'utf8')));
    if (!cache.get(file)!.has(decodeURIComponent(target.slice(at + 1)))) broken.push(`${from}: ${target}`);
  }
  t.same(broken, [], 'no anchor without its heading');
});

t.test('the README links every document of docs/ (each moved section stays reachable)', async (t) => {
  const readme = all.filter((link) => link.from === 'README.md').map((link) => link.target.split('#')[0]);
  const unlinked = documents.filter((file) => file !== 'README.md' && !readme.includes(file));
  t.same(unlinked, [], 'link these from the README');
});

t.test('the README\'s first-run step shows the setup page\'s screenshots', async (t) => {
  const readme = all.filter((link) => link.from === 'README.md').map((link) => link.target);
  for (const shot of ['docs/screenshots/setup-form.png', 'docs/screenshots/setup-done.png']) t.ok(readme.includes(shot), shot);
});

t.test('every screenshot in docs/screenshots/ is shown somewhere (no stale PNGs)', async (t) => {
  const shown = new Set(all.map(({ from, target }) => path.relative(root, path.resolve(root, path.dirname(from), decodeURI(target.split('#')[0]!)))));
  const pngs = (await readdir(path.join(root, 'docs/screenshots'))).filter((name) => name.endsWith('.png')).map((name) => `docs/screenshots/${name}`);
  t.ok(pngs.length >= 8, `${pngs.length} screenshots`);
  t.same(pngs.filter((png) => !shown.has(png)), [], 'show these in the README or docs/, or delete them');
});

t.test('anchors are made as GitHub makes them', async (t) => {
  t.same([...anchors('# Idempotency and `external_id`\n## Development: the shop and the sandboxes\n```\n# not a heading\n```\n## A\n## A\n')],
    ['idempotency-and-external_id', 'development-the-shop-and-the-sandboxes', 'a', 'a-1']);
});
