import { formatMoney, formatShortDay } from './format.ts';

/**
 * Geometry for a server-rendered SVG bar chart of one value per day. The
 * template (templates/partials/bar-chart.hbs) draws it; every text goes
 * through Handlebars' escaping, so names and labels can never become markup.
 * Heights use Number, which is fine for pixels; labels use the exact strings.
 */
export interface BarChart {
  id: string;
  title: string;
  description: string;
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  bars: { x: number; y: number; width: number; height: number; label: string }[];
  yTicks: { y: number; label: string }[];
  xTicks: { x: number; label: string }[];
  yAxisLabel: string;
}

export interface ChartPoint {
  day: string;
  /** Exact decimal string. */
  value: string;
}

const WIDTH = 760;
const HEIGHT = 260;
const PLOT = { left: 78, top: 34, right: WIDTH - 12, bottom: HEIGHT - 36 };

/** 1, 2, 2.5 or 5 times a power of ten, at least max / ticks. */
function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

/** points must cover every day shown (zeros included), in order. */
export function barChart(id: string, title: string, yAxisLabel: string, points: ChartPoint[]): BarChart {
  const values = points.map((p) => Number(p.value));
  const max = Math.max(0, ...values);
  const step = max > 0 ? niceStep(max, 4) : 1;
  const top = max > 0 ? Math.ceil(max / step) * step : 4;
  const plotWidth = PLOT.right - PLOT.left;
  const plotHeight = PLOT.bottom - PLOT.top;
  const slot = plotWidth / Math.max(points.length, 1);
  const y = (v: number) => PLOT.bottom - (v / top) * plotHeight;

  const bars = points.map((point, i) => {
    const v = Math.max(0, values[i]!);
    return {
      x: round(PLOT.left + i * slot + slot * 0.1),
      y: round(y(v)),
      width: round(Math.max(slot * 0.8, 1)),
      height: round(PLOT.bottom - y(v)),
      label: `${formatShortDay(point.day)}: ${formatMoney(point.value)}`,
    };
  });
  const yTicks = [];
  for (let v = 0; v <= top + step / 2; v += step) yTicks.push({ y: round(y(v)), label: compact(v) });
  const every = Math.max(1, Math.ceil(points.length / 8));
  const xTicks = points
    .map((point, i) => ({ i, point }))
    .filter(({ i }) => i % every === 0)
    .map(({ i, point }) => ({ x: round(PLOT.left + (i + 0.5) * slot), label: formatShortDay(point.day) }));

  return { id, title, description: describe(points), width: WIDTH, height: HEIGHT, plot: PLOT, bars, yTicks, xTicks, yAxisLabel };
}

/** The chart in words, for screen readers and text browsers. */
function describe(points: ChartPoint[]): string {
  if (points.length === 0) return 'No days in the range.';
  let high = points[0]!;
  let low = points[0]!;
  for (const p of points) {
    if (Number(p.value) > Number(high.value)) high = p;
    if (Number(p.value) < Number(low.value)) low = p;
  }
  const first = points[0]!.day;
  const last = points.at(-1)!.day;
  return `Daily totals from ${first} to ${last}: highest ${formatMoney(high.value)} on ${high.day}, ` +
    `lowest ${formatMoney(low.value)} on ${low.day}.`;
}

function compact(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toFixed(2)}B`;
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(2)}k`;
  return String(+v.toFixed(2));
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
