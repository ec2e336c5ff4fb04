/**
 * The state diagrams of docs/order-flow.md, drawn from the transition tables
 * in order-states.ts, so the documentation cannot drift from the code:
 * `npm run docs:order-flow` rewrites the generated blocks of the document
 * (between their marker comments), and test/docs/order-flow.test.ts fails
 * when the document differs from what this renders.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FULFILMENT, PAYMENT, allTransitions, type DimensionSpec } from './order-states.ts';

export const ORDER_FLOW_DOC = path.resolve(import.meta.dirname, '../../docs/order-flow.md');

/** The dimensions whose diagrams the document carries, in its order. */
export const DIAGRAM_SPECS: readonly DimensionSpec<string>[] = [PAYMENT, FULFILMENT];

/**
 * A Mermaid stateDiagram-v2 of one dimension: every state declared (also one
 * no transition reaches yet), the first state of the list as the start (the
 * column's default), every allowed transition, and an end after each state
 * with no way out. Transitions are sorted by their from-state, then their
 * to-state, in the order of the state list, so the text is stable.
 */
export function stateDiagram<S extends string>(spec: DimensionSpec<S>): string {
  const order = (state: S) => spec.states.indexOf(state);
  const transitions = allTransitions(spec).sort(([fromA, toA], [fromB, toB]) => order(fromA) - order(fromB) || order(toA) - order(toB));
  const leaving = new Set(transitions.map(([from]) => from));
  return [
    'stateDiagram-v2',
    ...spec.states.map((state) => `    ${state}`),
    `    [*] --> ${spec.states[0]}`,
    ...transitions.map(([from, to]) => `    ${from} --> ${to}`),
    ...spec.states.filter((state) => !leaving.has(state)).map((state) => `    ${state} --> [*]`),
  ].join('\n');
}

export function beginMarker(spec: DimensionSpec<string>): string {
  return `<!-- BEGIN GENERATED ${spec.dimension} state diagram: npm run docs:order-flow rewrites it from src/orders/order-states.ts -->`;
}

export function endMarker(spec: DimensionSpec<string>): string {
  return `<!-- END GENERATED ${spec.dimension} state diagram -->`;
}

/** What goes between a dimension's markers: the diagram in a mermaid fence. */
export function generatedBlock(spec: DimensionSpec<string>): string {
  return ['```mermaid', stateDiagram(spec), '```'].join('\n');
}

/** The document with each dimension's block replaced by a fresh one; an error names a missing or doubled marker. */
export function rewriteStateDiagrams(markdown: string, specs: readonly DimensionSpec<string>[] = DIAGRAM_SPECS): string {
  let text = markdown;
  for (const spec of specs) {
    const [begin, end] = [beginMarker(spec), endMarker(spec)];
    const start = text.indexOf(begin);
    const stop = text.indexOf(end);
    if (start < 0 || stop < start || text.indexOf(begin, start + 1) >= 0 || text.indexOf(end, stop + 1) >= 0) {
      throw new Error(`docs/order-flow.md needs exactly one pair of markers for the ${spec.dimension} state diagram:\n${begin}\n${end}`);
    }
    text = `${text.slice(0, start + begin.length)}\n${generatedBlock(spec)}\n${text.slice(stop)}`;
  }
  return text;
}

if (import.meta.main) {
  try {
    const before = await readFile(ORDER_FLOW_DOC, 'utf8');
    const after = rewriteStateDiagrams(before);
    if (after === before) {
      process.stdout.write('docs/order-flow.md: the state diagrams are up to date\n');
    } else {
      await writeFile(ORDER_FLOW_DOC, after);
      process.stdout.write('docs/order-flow.md: state diagrams rewritten from src/orders/order-states.ts\n');
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
