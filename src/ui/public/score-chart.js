// The score-over-time chart (uPlot): one point per finished experiment, coloured by kind (baseline, accepted,
// rejected by the gate, repeat/verify, failed), failures drawn along the top, and the best score so far as a step
// line. Points arrive as compact arrays (seq, score, kind) and live updates replace them by seq.
import uPlot from '/vendor/uplot.js';

const KINDS = ['baseline', 'accepted', 'rejected', 'repeat', 'failed'];
const COLORS = { baseline: '#64748b', accepted: '#16a34a', rejected: '#2563eb', repeat: '#a3a3a3', failed: '#dc2626' };
const LABELS = { baseline: 'baseline', accepted: 'accepted', rejected: 'rejected by gate', repeat: 'repeat / verify', failed: 'failed (drawn at top)' };

export class ScoreChart {
  constructor(container, { metric, direction }) {
    this.container = container;
    this.direction = direction;
    this.points = new Map(); // seq -> { score, kind }
    this.pending = false;
    const pointSeries = (kind) => ({
      label: LABELS[kind], stroke: COLORS[kind], fill: COLORS[kind], width: 0,
      paths: () => null, points: { show: true, size: kind === 'accepted' ? 8 : 6, stroke: COLORS[kind], fill: COLORS[kind] },
    });
    const options = {
      width: this.width(), height: 300,
      scales: { x: { time: false } },
      axes: [{ label: 'experiment #' }, { label: metric, size: 60 }],
      series: [
        { label: '#' },
        ...KINDS.map(pointSeries),
        { label: 'best so far', stroke: '#16a34a', width: 1.5, dash: [4, 3], paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, spanGaps: true },
      ],
      legend: { live: true },
      cursor: { points: { size: 8 } },
    };
    this.plot = new uPlot(options, this.data(), container);
    this.resize = () => this.plot.setSize({ width: this.width(), height: 300 });
    window.addEventListener('resize', this.resize);
  }

  width() {
    return Math.max(320, this.container.clientWidth || 800);
  }

  /** Replaces every point from compact arrays. */
  setAll({ seq, score, kind }) {
    this.points.clear();
    for (let index = 0; index < seq.length; index++) this.points.set(seq[index], { score: score[index], kind: kind[index] });
    this.redraw();
  }

  /** Adds or replaces the points of changed experiment lines. */
  upsert(lines, kindOf) {
    for (const line of lines) {
      if (line.state !== 'finished' || line.status === 'rejected') this.points.delete(line.seq);
      else this.points.set(line.seq, { score: line.score, kind: kindOf(line) });
    }
    // Coalesce bursts of updates into one redraw per frame.
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.redraw(); });
    }
  }

  data() {
    const seqs = [...this.points.keys()].sort((a, b) => a - b);
    const scored = seqs.map((seq) => this.points.get(seq).score).filter((score) => score !== null && Number.isFinite(score));
    const ceiling = scored.length ? Math.max(...scored) * 1.06 : 1;
    const columns = KINDS.map(() => new Array(seqs.length).fill(null));
    const best = new Array(seqs.length).fill(null);
    let bestSoFar = null;
    seqs.forEach((seq, index) => {
      const { score, kind } = this.points.get(seq);
      columns[kind][index] = kind === 4 ? ceiling : score;
      if ((kind === 0 || kind === 1) && score !== null) {
        const better = bestSoFar === null || (this.direction === 'minimize' ? score < bestSoFar : score > bestSoFar);
        // The baseline's repeats set the first incumbent; later only accepted candidates move it.
        if (kind === 1 || bestSoFar === null) bestSoFar = better || kind === 1 ? score : bestSoFar;
      }
      best[index] = bestSoFar;
    });
    return [seqs, ...columns, best];
  }

  redraw() {
    this.plot.setData(this.data());
  }

  destroy() {
    window.removeEventListener('resize', this.resize);
    this.plot.destroy();
  }
}
