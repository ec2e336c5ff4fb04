import { readFile } from 'node:fs/promises';
import t from 'tap';
import { allQueues } from '../../src/jobs/all-queues.ts';
import {
  beginMarker, DIAGRAM_SPECS, endMarker, generatedBlock, ORDER_FLOW_DOC, rewriteStateDiagrams, stateDiagram,
} from '../../src/orders/order-flow-chart.ts';
import { allTransitions, FULFILMENT, PAYMENT, type DimensionSpec } from '../../src/orders/order-states.ts';

const doc = await readFile(ORDER_FLOW_DOC, 'utf8');

/** The text between a dimension's markers, as the document has it. */
function docBlock(spec: DimensionSpec<string>): string {
  const start = doc.indexOf(beginMarker(spec));
  const stop = doc.indexOf(endMarker(spec));
  if (start < 0 || stop < start) throw new Error(`no ${spec.dimension} markers in docs/order-flow.md`);
  return doc.slice(start + beginMarker(spec).length, stop).trim();
}

/** States and transitions read back from Mermaid text, without the generator's help. */
function readDiagram(mermaid: string): { states: Set<string>; transitions: Set<string> } {
  const states = new Set<string>();
  const transitions = new Set<string>();
  for (const line of mermaid.split('\n').map((text) => text.trim())) {
    const arrow = /^(\[\*\]|\w+) --> (\[\*\]|\w+)$/.exec(line);
    if (arrow) {
      for (const state of [arrow[1]!, arrow[2]!]) if (state !== '[*]') states.add(state);
      if (arrow[1] !== '[*]' && arrow[2] !== '[*]') transitions.add(`${arrow[1]} --> ${arrow[2]}`);
    } else if (/^\w+$/.test(line)) {
      states.add(line);
    }
  }
  return { states, transitions };
}

function flowcharts(): string {
  const blocks = [...doc.matchAll(/```mermaid\n(flowchart[\s\S]*?)```/g)].map((match) => match[1]!);
  if (blocks.length === 0) throw new Error('docs/order-flow.md has no flowchart');
  return blocks.join('\n');
}

const specs: DimensionSpec<string>[] = [PAYMENT, FULFILMENT];

for (const spec of specs) {
  t.test(`the ${spec.dimension} state diagram in the document is what the generator makes of the code`, async (t) => {
    t.equal(docBlock(spec), generatedBlock(spec), 'run `npm run docs:order-flow` to bring docs/order-flow.md up to date');
  });

  t.test(`every ${spec.dimension} state and every allowed transition of the code is in the document's diagram, and nothing else`, async (t) => {
    const diagram = readDiagram(docBlock(spec));
    t.same([...spec.states].filter((state) => !diagram.states.has(state)), [], 'no state is missing');
    t.same([...diagram.states].filter((state) => !(spec.states as readonly string[]).includes(state)), [], 'no state the code lacks');
    const code = allTransitions(spec).map(([from, to]) => `${from} --> ${to}`);
    t.same(code.filter((transition) => !diagram.transitions.has(transition)), [], 'no transition is missing');
    t.same([...diagram.transitions].filter((transition) => !code.includes(transition)), [], 'no transition the code does not allow');
  });
}

t.test('the whole document is unchanged by the generator', async (t) => {
  t.equal(rewriteStateDiagrams(doc), doc);
});

t.test('a state or a transition added to the code makes the document out of date', async (t) => {
  const withState: DimensionSpec<string> = { ...PAYMENT, states: [...PAYMENT.states, 'on_hold'], transitions: { ...PAYMENT.transitions, on_hold: [] } };
  t.match(stateDiagram(withState), /^ {4}on_hold$/m, 'a state no transition reaches is still drawn');
  t.not(rewriteStateDiagrams(doc, [withState]), doc);
  const withTransition: DimensionSpec<string> = { ...PAYMENT, transitions: { ...PAYMENT.transitions, paid: [...PAYMENT.transitions.paid, 'expired'] } };
  t.match(stateDiagram(withTransition), /^ {4}expired --> paid$/m);
  t.not(rewriteStateDiagrams(doc, [withTransition]), doc);
});

t.test('the generator refuses a document without its markers, naming them', async (t) => {
  t.throws(() => rewriteStateDiagrams('# Order flow\n', DIAGRAM_SPECS), { message: /payment state diagram/ });
});

t.test('every queue of the application appears by its exact name in the flowchart', async (t) => {
  const chart = flowcharts();
  const missing = allQueues.map(({ name }) => name)
    .filter((name) => !new RegExp(`(?<![\\w])${name}(?![\\w])`).test(chart));
  t.same(missing, [], 'add the queue to the flowchart in docs/order-flow.md');
});
