import type { BurndownData, ChangesetState } from './api.js';

/** The states drawn, in legend order, with their colours (a state never reached is left out). */
const SERIES: { state: ChangesetState; color: string }[] = [
  { state: 'unpublished', color: '#9ca3af' },
  { state: 'pending', color: '#a78bfa' },
  { state: 'scheduled', color: '#60a5fa' },
  { state: 'draft', color: '#94a3b8' },
  { state: 'open', color: '#16a34a' },
  { state: 'merged', color: '#7c3aed' },
  { state: 'closed', color: '#dc2626' },
];

const W = 640;
const H = 220;
const PAD = { left: 40, right: 12, top: 12, bottom: 28 };

const time = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });

/**
 * The campaign's changesets by state over time, one line per state and a dashed total, drawn as
 * an SVG from the burndown the service folds from the log.
 */
export function BurndownChart({ burndown }: { burndown: BurndownData }) {
  const points = burndown.points;
  if (points.length === 0) return <p className="muted">No changesets yet.</p>;
  const t0 = new Date(points[0]!.at).getTime();
  const t1 = Math.max(new Date(points.at(-1)!.at).getTime(), t0 + 1);
  const max = Math.max(1, ...points.map((p) => p.counts.total));
  const x = (at: string) =>
    PAD.left + ((new Date(at).getTime() - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (n: number) => H - PAD.bottom - (n / max) * (H - PAD.top - PAD.bottom);
  // Counts hold until the next point: steps, not slopes.
  const path = (count: (p: (typeof points)[number]) => number) =>
    points
      .map((p, i) => {
        const px = x(p.at).toFixed(1);
        const py = y(count(p)).toFixed(1);
        return i === 0 ? `M${px},${py}` : `H${px}V${py}`;
      })
      .join('');
  const shown = SERIES.filter((s) => points.some((p) => p.counts[s.state] > 0));
  const ticks = [...new Set([0, Math.round(max / 2), max])];
  return (
    <figure className="burndown" data-testid="burndown">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Changesets by state over time">
        {ticks.map((n) => (
          <g key={n}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(n)} y2={y(n)} className="grid" />
            <text x={PAD.left - 6} y={y(n) + 4} textAnchor="end" className="axis">
              {n}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={H - 8} className="axis">
          {time(points[0]!.at)}
        </text>
        <text x={W - PAD.right} y={H - 8} textAnchor="end" className="axis">
          {time(points.at(-1)!.at)}
        </text>
        <path d={path((p) => p.counts.total)} className="total" />
        {shown.map((s) => (
          <path
            key={s.state}
            d={path((p) => p.counts[s.state])}
            stroke={s.color}
            className="series"
            data-state={s.state}
          />
        ))}
      </svg>
      <figcaption>
        <span className="legend">
          <i className="swatch total-swatch" /> total {points.at(-1)!.counts.total}
        </span>
        {shown.map((s) => (
          <span key={s.state} className="legend">
            <i className="swatch" style={{ background: s.color }} /> {s.state}{' '}
            {points.at(-1)!.counts[s.state]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
