// The A/B engine: every chain's rendered audio decoded into Web Audio and played in sync.
//
// Design: one AudioBufferSourceNode per chain, all started at the same context time with
// the same offset (and the same loop points), each through its own gain. So every chain
// always sits at the same sample; switching the audible chain only moves gains, with a
// short equal-power (cos/sin) crossfade: no click, no restart, the playhead never moves.
// Seeking or changing the loop restarts all sources together at the new offset.
// `window.__gtsAudio` is a small read-only hook for the browser tests (the current
// source, the playhead, and when the sources were started), not used by the UI.

/** Length of the crossfade when switching chains. */
export const CROSSFADE_S = 0.03;

export interface LoopRegion {
  start: number;
  end: number;
}

type Listener = () => void;

function equalPowerCurves(steps = 64): { fadeIn: Float32Array; fadeOut: Float32Array } {
  const fadeIn = new Float32Array(steps);
  const fadeOut = new Float32Array(steps);
  for (let i = 0; i < steps; i++) {
    const x = (i / (steps - 1)) * (Math.PI / 2);
    fadeIn[i] = Math.sin(x);
    fadeOut[i] = Math.cos(x);
  }
  return { fadeIn, fadeOut };
}

export class AbEngine {
  readonly context: AudioContext;
  readonly buffers: AudioBuffer[];
  private gains: GainNode[] = [];
  private sources: AudioBufferSourceNode[] = [];
  private current = 0;
  private playing = false;
  /** Context time at which the running sources started, and the offset they started at. */
  private startedAt = 0;
  private startOffset = 0;
  private pausedAt = 0;
  private loopRegion: LoopRegion | null = null;
  private switches = 0;
  private listeners: Listener[] = [];
  private curves = equalPowerCurves();

  constructor(context: AudioContext, buffers: AudioBuffer[]) {
    this.context = context;
    this.buffers = buffers;
    this.gains = buffers.map((_, i) => {
      const gain = context.createGain();
      gain.gain.value = i === 0 ? 1 : 0;
      gain.connect(context.destination);
      return gain;
    });
    (window as unknown as { __gtsAudio: unknown }).__gtsAudio = {
      current: () => this.current,
      position: () => this.position(),
      playing: () => this.playing,
      startedAt: () => this.startedAt,
      sources: () => this.sources.length,
      switches: () => this.switches,
      sampleRate: () => this.context.sampleRate,
      gains: () => this.gains.map((g) => g.gain.value),
      loop: () => this.loopRegion,
    };
  }

  /** Seconds of the shortest chain (all chains render the same DI). */
  get duration(): number {
    return Math.min(...this.buffers.map((b) => b.duration));
  }

  get currentChain(): number {
    return this.current;
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  get loop(): LoopRegion | null {
    return this.loopRegion;
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** The playhead in seconds. */
  position(): number {
    if (!this.playing) return this.pausedAt;
    const elapsed = Math.max(0, this.context.currentTime - this.startedAt);
    let at = this.startOffset + elapsed;
    const loop = this.loopRegion;
    if (loop && at >= loop.end) {
      const length = loop.end - loop.start;
      at = loop.start + ((at - loop.start) % length);
    }
    return Math.min(at, this.duration);
  }

  private stopSources(): void {
    for (const s of this.sources) {
      s.onended = null;
      try {
        s.stop();
      } catch {
        // Already stopped.
      }
      s.disconnect();
    }
    this.sources = [];
  }

  private startSources(offset: number): void {
    this.stopSources();
    // A little ahead, so every source starts on the same sample.
    const when = this.context.currentTime + 0.02;
    const loop = this.loopRegion;
    this.sources = this.buffers.map((buffer, i) => {
      const source = this.context.createBufferSource();
      source.buffer = buffer;
      if (loop) {
        source.loop = true;
        source.loopStart = loop.start;
        source.loopEnd = loop.end;
      }
      source.connect(this.gains[i]);
      source.start(when, offset);
      return source;
    });
    this.sources[0].onended = () => {
      if (!this.loopRegion && this.playing) {
        this.playing = false;
        this.pausedAt = 0;
        this.stopSources();
        this.changed();
      }
    };
    this.startedAt = when;
    this.startOffset = offset;
  }

  async play(): Promise<void> {
    if (this.playing) return;
    if (this.context.state === "suspended") await this.context.resume();
    let offset = this.pausedAt;
    if (offset >= this.duration - 0.01) offset = this.loopRegion?.start ?? 0;
    this.playing = true;
    this.startSources(offset);
    this.changed();
  }

  pause(): void {
    if (!this.playing) return;
    this.pausedAt = this.position();
    this.playing = false;
    this.stopSources();
    this.changed();
  }

  toggle(): void {
    if (this.playing) this.pause();
    else void this.play();
  }

  seek(seconds: number): void {
    const at = Math.max(0, Math.min(seconds, this.duration - 0.01));
    if (this.playing) this.startSources(at);
    else this.pausedAt = at;
    this.changed();
  }

  /** Makes `index` the audible chain with an equal-power crossfade; the playhead stays. */
  select(index: number): void {
    if (index < 0 || index >= this.buffers.length || index === this.current) return;
    const now = this.context.currentTime;
    this.gains.forEach((g, i) => {
      const param = g.gain;
      const start = param.value;
      // Hold whatever a running fade reached, then fade from there (a curve may not
      // overlap another automation event).
      param.cancelScheduledValues(0);
      param.setValueAtTime(start, now);
      if (i === index) {
        const curve = this.curves.fadeIn.map((v) => start + (1 - start) * v);
        param.setValueCurveAtTime(curve, now + 0.001, CROSSFADE_S);
      } else if (start > 0) {
        const curve = this.curves.fadeOut.map((v) => start * v);
        param.setValueCurveAtTime(curve, now + 0.001, CROSSFADE_S);
      }
    });
    this.current = index;
    this.switches += 1;
    this.changed();
  }

  /** Loops `region` (null: no loop); the sources restart at the region's start if outside. */
  setLoop(region: LoopRegion | null): void {
    const at = this.position();
    this.loopRegion = region && region.end - region.start >= 0.1 ? region : null;
    const inside = this.loopRegion && at >= this.loopRegion.start && at < this.loopRegion.end;
    if (this.playing) this.startSources(this.loopRegion && !inside ? this.loopRegion.start : at);
    else if (this.loopRegion && !inside) this.pausedAt = this.loopRegion.start;
    this.changed();
  }

  close(): void {
    this.stopSources();
    void this.context.close();
  }
}

/** Peak envelope of `buffers` (the loudest of every chain per column), for a waveform. */
export function envelope(buffers: AudioBuffer[], columns: number): Float32Array {
  const out = new Float32Array(columns);
  for (const buffer of buffers) {
    const data = buffer.getChannelData(0);
    const step = Math.max(1, Math.floor(data.length / columns));
    for (let c = 0; c < columns; c++) {
      let peak = 0;
      const end = Math.min(data.length, (c + 1) * step);
      for (let i = c * step; i < end; i++) {
        const v = Math.abs(data[i]);
        if (v > peak) peak = v;
      }
      if (peak > out[c]) out[c] = peak;
    }
  }
  return out;
}
