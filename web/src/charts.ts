// The result's charts, drawn in the page so the chain being heard stands out: every
// chain's spectrum (the render's spectrum.json, the points of spectrum.png) and its levels
// (integrated loudness, true peak, RMS from the metrics). The current chain is drawn last,
// thick and opaque; the others thin and faded. `data-highlight` on each canvas names the
// highlighted chain (for tests and assistive tech, with an updated label).
import type { ChainMetrics } from "./gen/gts/v1/job_pb";
import { h } from "./util";

/** spectrum.json: each chain's (Hz, dB) points, 20 Hz to 20 kHz on a log scale. */
export interface SpectrumData {
  chains: { chain: number; points: [number, number][] }[];
}

/** Tableau-10, the palette of the PNG plots, so the colours match. */
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

export function colourOf(chain: number): string {
  return PALETTE[chain % PALETTE.length];
}

/** Reads spectrum.json, or null when it is not what the render writes. */
export function parseSpectrum(body: unknown): SpectrumData | null {
  const chains = (body as SpectrumData | null)?.chains;
  if (!Array.isArray(chains)) return null;
  const valid = chains.every(
    (c) => Number.isInteger(c?.chain) && Array.isArray(c.points) && c.points.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && Number.isFinite(v))),
  );
  return valid && chains.length ? { chains } : null;
}

const LEVELS: [string, (m: ChainMetrics) => number][] = [
  ["Loudness (LUFS)", (m) => m.integratedLufs],
  ["True peak (dBTP)", (m) => m.truePeakDbtp],
  ["RMS (dBFS)", (m) => m.rmsDbfs],
];

export class ResultCharts {
  readonly element: HTMLElement;
  private readonly spectrumCanvas: HTMLCanvasElement;
  private readonly levelCanvas: HTMLCanvasElement;
  private spectrum: SpectrumData | null = null;
  private current = 0;

  constructor(
    private readonly names: string[],
    private readonly metrics: (ChainMetrics | undefined)[],
  ) {
    this.spectrumCanvas = h("canvas", { id: "spectrum-chart", width: 800, height: 360, role: "img" });
    this.levelCanvas = h("canvas", { id: "level-bars", width: 800, height: 360, role: "img" });
    this.element = h(
      "div",
      { class: "plots" },
      h("figure", { id: "spectrum-figure", hidden: true }, this.spectrumCanvas, h("figcaption", { text: "Spectrum of every chain; the one you hear is bold" })),
      h("figure", {}, this.levelCanvas, h("figcaption", { text: "Levels of every chain; the one you hear is bold" })),
    );
  }

  setSpectrum(data: SpectrumData): void {
    this.spectrum = data;
    (this.spectrumCanvas.parentElement as HTMLElement).hidden = false;
    this.draw(this.current);
  }

  /** Redraws both charts with `current` highlighted. */
  draw(current: number): void {
    this.current = current;
    const name = this.names[current] ?? "";
    for (const [canvas, what] of [[this.spectrumCanvas, "Spectrum"], [this.levelCanvas, "Levels"]] as const) {
      canvas.dataset.highlight = String(current);
      canvas.setAttribute("aria-label", `${what} of every chain, ${name} highlighted`);
    }
    if (this.spectrum) this.drawSpectrum(this.spectrum);
    this.drawLevels();
  }

  /** Chains in drawing order: the highlighted one last, on top. */
  private drawOrder(count: number): number[] {
    const others = [...Array(count).keys()].filter((i) => i !== this.current);
    return this.current < count ? [...others, this.current] : others;
  }

  private drawSpectrum(data: SpectrumData): void {
    const ctx = this.spectrumCanvas.getContext("2d");
    if (!ctx) return;
    const { width, height } = this.spectrumCanvas;
    const pad = { left: 60, right: 10, top: 10, bottom: 36 };
    ctx.clearRect(0, 0, width, height);
    const all = data.chains.flatMap((c) => c.points.map(([, db]) => db));
    const top = Math.ceil(Math.max(...all) / 10) * 10 + 5;
    const bottom = top - 90;
    const lowHz = 20;
    const highHz = Math.max(...data.chains.flatMap((c) => c.points.map(([hz]) => hz)), 40);
    const x = (hz: number) => pad.left + (Math.log(hz / lowHz) / Math.log(highHz / lowHz)) * (width - pad.left - pad.right);
    const y = (db: number) => pad.top + ((top - Math.max(bottom, Math.min(top, db))) / (top - bottom)) * (height - pad.top - pad.bottom);
    this.axes(ctx, width, height, pad);
    ctx.fillStyle = "#555";
    ctx.font = "20px system-ui, sans-serif";
    for (const hz of [50, 100, 200, 500, 1000, 2000, 5000, 10000]) {
      if (hz < highHz) ctx.fillText(hz >= 1000 ? `${hz / 1000}k` : String(hz), x(hz) - 14, height - 10);
    }
    for (let db = bottom + 10; db <= top; db += 20) ctx.fillText(`${db}`, 8, y(db) + 4);
    const byChain = new Map(data.chains.map((c) => [c.chain, c.points]));
    for (const chain of this.drawOrder(this.names.length)) {
      const points = byChain.get(chain);
      if (!points?.length) continue;
      const highlighted = chain === this.current;
      ctx.globalAlpha = highlighted ? 1 : 0.35;
      ctx.strokeStyle = colourOf(chain);
      ctx.lineWidth = highlighted ? 3 : 1.5;
      ctx.beginPath();
      points.forEach(([hz, db], i) => (i ? ctx.lineTo(x(hz), y(db)) : ctx.moveTo(x(hz), y(db))));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    // Legend, top right: every chain in its colour, the one heard in bold.
    ctx.textAlign = "right";
    this.names.forEach((name, chain) => {
      ctx.font = `${chain === this.current ? "bold " : ""}20px system-ui, sans-serif`;
      ctx.fillStyle = colourOf(chain);
      ctx.fillText(name, width - pad.right - 8, pad.top + 24 + chain * 24);
    });
    ctx.textAlign = "left";
  }

  private drawLevels(): void {
    const ctx = this.levelCanvas.getContext("2d");
    if (!ctx) return;
    const { width, height } = this.levelCanvas;
    const pad = { left: 190, right: 70, top: 10, bottom: 36 };
    ctx.clearRect(0, 0, width, height);
    // dB values are negative: bars grow from the floor (-40) towards 0.
    const floor = -40;
    const x = (db: number) => pad.left + ((Math.max(floor, Math.min(0, db)) - floor) / -floor) * (width - pad.left - pad.right);
    this.axes(ctx, width, height, pad);
    ctx.font = "20px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    for (let db = floor; db <= 0; db += 10) ctx.fillText(`${db}`, x(db) - 14, height - 10);
    const count = this.names.length;
    const groupHeight = (height - pad.top - pad.bottom) / LEVELS.length;
    const barHeight = Math.max(2, (groupHeight - 14) / Math.max(1, count));
    LEVELS.forEach(([label, get], group) => {
      const groupTop = pad.top + group * groupHeight;
      ctx.globalAlpha = 1;
      ctx.fillStyle = "#333";
      ctx.fillText(label, 6, groupTop + groupHeight / 2 + 7);
      for (const chain of this.drawOrder(count)) {
        const metrics = this.metrics[chain];
        if (!metrics) continue;
        const highlighted = chain === this.current;
        ctx.globalAlpha = highlighted ? 1 : 0.35;
        ctx.fillStyle = colourOf(chain);
        const top = groupTop + 7 + chain * barHeight;
        ctx.fillRect(pad.left, top, x(get(metrics)) - pad.left, barHeight - (highlighted ? 0 : 2));
        if (highlighted) {
          ctx.fillStyle = "#222";
          ctx.fillText(get(metrics).toFixed(1), x(get(metrics)) + 6, top + barHeight / 2 + 7);
        }
      }
    });
    ctx.globalAlpha = 1;
  }

  private axes(ctx: CanvasRenderingContext2D, width: number, height: number, pad: { left: number; right: number; top: number; bottom: number }): void {
    ctx.strokeStyle = "#bbb";
    ctx.lineWidth = 1;
    ctx.strokeRect(pad.left, pad.top, width - pad.left - pad.right, height - pad.top - pad.bottom);
  }
}
