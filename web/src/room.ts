// The listening room: a finished result, player first. Instant A/B of every chain in Web
// Audio (audio.ts) on one transport with a waveform to seek on and a loop region to drag,
// number keys to switch, blind mode with a fixed per-result shuffle, then what each chain
// is (its gear), how it measured and what the evaluation says, the plots, the
// back-to-back A/B file and the video. Used by the owner's workspace and by share links.
import { AppliedInputMode, type Artifact, ArtifactKind, type ChainInputLevel, type ChainMetrics, type ChainResult } from "./gen/gts/v1/job_pb";
import { AbEngine, envelope } from "./audio";
import { ResultCharts, parseSpectrum } from "./charts";
import { describe, h, seededOrder, toneLetter } from "./util";

/** One line of a chain's gear list: what the block is, and details. */
export interface GearLine {
  kind: string;
  title: string;
  details: string[];
}

export interface RoomChain {
  name: string;
  gear: GearLine[];
  result?: ChainResult;
}

export interface RoomData {
  /** Identifies the result (job id or share token): seeds the blind order, keys storage. */
  resultKey: string;
  title: string;
  subtitle: string;
  chains: RoomChain[];
  artifacts: Artifact[];
  url: (artifact: Artifact) => Promise<string>;
  /** Extra controls under the title (the owner's share link). */
  actions?: HTMLElement;
}

interface BlindState {
  on: boolean;
  favourite: number | null; // slot
  ranks: Record<number, number>; // slot -> rank (1 = best)
  revealed: boolean;
}

let teardown: (() => void) | null = null;

function blindKey(key: string): string {
  return `gts.blind.${key}`;
}

function loadBlind(key: string): BlindState {
  try {
    const raw = localStorage.getItem(blindKey(key));
    if (raw) return { on: false, favourite: null, ranks: {}, revealed: false, ...(JSON.parse(raw) as Partial<BlindState>) };
  } catch {
    // A damaged entry starts over.
  }
  return { on: false, favourite: null, ranks: {}, revealed: false };
}

function saveBlind(key: string, state: BlindState): void {
  localStorage.setItem(blindKey(key), JSON.stringify(state));
}

function time(seconds: number): string {
  const s = Math.max(0, seconds);
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
}

const SHORTCUTS: [string, string][] = [
  ["Space", "play / pause"],
  ["1–9", "switch to chain (or tone) 1–9"],
  ["← →", "back / forward 5 s"],
  ["L", "loop the dragged region on / off"],
  ["Esc", "clear the loop"],
  ["B", "blind mode on / off"],
];

function chainAudio(artifacts: Artifact[], index: number): Artifact | undefined {
  const of = (kind: ArtifactKind) => artifacts.find((a) => a.kind === kind && a.chainIndex === index);
  // WAV decodes everywhere; FLAC where the browser can.
  return of(ArtifactKind.CHAIN_WAV) ?? of(ArtifactKind.CHAIN_FLAC);
}

function shared(artifacts: Artifact[], kind: ArtifactKind): Artifact | undefined {
  return artifacts.find((a) => a.kind === kind && a.chainIndex === undefined);
}

/**
 * The levelled DI's waveform (the render's di-waveform.json), or null when the result has
 * none (rendered before it existed) or it cannot be read: the caller falls back to the
 * chains' envelope.
 */
async function diWaveform(data: RoomData): Promise<Float32Array | null> {
  const artifact = shared(data.artifacts, ArtifactKind.DI_WAVEFORM);
  if (!artifact) return null;
  try {
    const response = await fetch(await data.url(artifact));
    if (!response.ok) return null;
    const body = (await response.json()) as { peaks?: unknown };
    if (!Array.isArray(body.peaks) || !body.peaks.every((p) => typeof p === "number")) return null;
    return Float32Array.from(body.peaks as number[]);
  } catch {
    return null;
  }
}

/** Renders the room into `container`, replacing whatever was there. */
export function renderRoom(container: HTMLElement, data: RoomData): void {
  teardown?.();
  teardown = null;
  const blind = loadBlind(data.resultKey);
  const count = data.chains.length;
  const order = seededOrder(count, data.resultKey); // slot -> chain index
  const slotOf = (chain: number) => order.indexOf(chain);

  const status = h("p", { id: "room-status", class: "muted", "aria-live": "polite", text: "Loading the audio…" });
  const play = h("button", { id: "play", type: "button", class: "primary", text: "Play", "aria-keyshortcuts": "Space", disabled: true });
  const clock = h("span", { id: "clock", class: "clock", text: "0:00.0" });
  const canvas = h("canvas", {
    id: "waveform",
    width: 1200,
    height: 120,
    tabindex: 0,
    role: "slider",
    "aria-label": "Playhead: click to seek, drag to set a loop region",
    "aria-valuemin": 0,
    "aria-valuenow": 0,
  });
  const loopButton = h("button", { id: "loop", type: "button", text: "Loop: off", "aria-pressed": "false", "aria-keyshortcuts": "L", disabled: true });
  const switcher = h("div", { id: "switcher", class: "switcher", role: "group", "aria-label": "Audible chain" });
  const blindToggle = h("input", { id: "blind-toggle", type: "checkbox", checked: blind.on });
  const blindPanel = h("div", { id: "blind-panel" });
  const cards = h("div", { id: "chain-cards", class: "cards" });
  const nowPlaying = h("p", { id: "now-playing", class: "now", "aria-live": "polite", text: "" });

  let engine: AbEngine | null = null;
  let dragRegion: { start: number; end: number } | null = null;
  let peaks: Float32Array | null = null;
  const charts = new ResultCharts(
    data.chains.map((c) => c.name),
    data.chains.map((c) => c.result?.metrics),
  );

  const label = (chain: number) => (blind.on && !blind.revealed ? `Tone ${toneLetter(slotOf(chain))}` : data.chains[chain].name);

  // --- switcher and cards -----------------------------------------------------------------
  function renderSwitcher(): void {
    const slots = blind.on ? order : data.chains.map((_, i) => i);
    switcher.replaceChildren(
      ...slots.map((chain, position) => {
        const current = engine?.currentChain === chain;
        const b = h(
          "button",
          {
            type: "button",
            class: current ? "chain-button current" : "chain-button",
            "data-chain": blind.on ? undefined : chain,
            "data-slot": position,
            "aria-pressed": current ? "true" : "false",
            "aria-keyshortcuts": position < 9 ? String(position + 1) : undefined,
            disabled: !engine,
          },
          h("kbd", { text: position < 9 ? String(position + 1) : "" }),
          " ",
          blind.on && !blind.revealed ? `Tone ${toneLetter(position)}` : data.chains[chain].name,
        );
        b.addEventListener("click", () => engine?.select(chain));
        return b;
      }),
    );
    const current = engine?.currentChain ?? 0;
    nowPlaying.textContent = engine ? `Now hearing: ${label(current)}` : "";
  }

  /** How the DI entered the chain: "Calibrated: DI −6.3 dB (amp captured at +18.3 dBu)". */
  function inputLine(input: ChainInputLevel | undefined): HTMLElement | null {
    if (!input || input.mode === AppliedInputMode.UNSPECIFIED) return null;
    const signed = (v: number, unit: string) => `${v >= 0 ? "+" : ""}${v.toFixed(1)} ${unit}`;
    const text =
      input.mode === AppliedInputMode.CALIBRATED
        ? `Calibrated: DI ${signed(input.calibrationGainDb ?? 0, "dB")} (amp captured at ${signed(input.modelInputLevelDbu ?? 0, "dBu")}, your DI at ${signed(input.diCalibrationDbu, "dBu")})`
        : `RMS level${input.note ? `: ${input.note}` : ""}`;
    return h("p", { class: "input-level", text: `Input: ${text}` });
  }

  function metricLine(m: ChainMetrics | undefined): HTMLElement {
    if (!m) return h("p", { class: "muted", text: "No measurements." });
    return h(
      "dl",
      { class: "facts" },
      h("dt", { text: "Loudness", title: "Integrated loudness, BS.1770; every chain is matched to the same target" }),
      h("dd", { text: `${m.integratedLufs.toFixed(1)} LUFS` }),
      h("dt", { text: "True peak", title: "Highest inter-sample peak after levelling" }),
      h("dd", { text: `${m.truePeakDbtp.toFixed(1)} dBTP` }),
      h("dt", { text: "Brightness", title: "Spectral centroid: where the energy sits" }),
      h("dd", { text: `${Math.round(m.spectralCentroidHz)} Hz` }),
      h("dt", { text: "Dynamics", title: "Crest factor: peak over RMS" }),
      h("dd", { text: `${m.crestFactorDb.toFixed(1)} dB` }),
      h("dt", { text: "Lows / mids / highs" }),
      h("dd", { text: `${pct(m.lowBandEnergyRatio)} / ${pct(m.midBandEnergyRatio)} / ${pct(m.highBandEnergyRatio)}` }),
    );
  }

  function renderCards(): void {
    const hidden = blind.on && !blind.revealed;
    const sequence = hidden ? order : data.chains.map((_, i) => i);
    cards.replaceChildren(
      ...sequence.map((chain, position) => {
        const c = data.chains[chain];
        const current = engine?.currentChain === chain;
        const card = h("article", {
          class: current ? "card current" : "card",
          "aria-current": current ? "true" : undefined,
          "data-chain": hidden ? undefined : chain,
          "aria-labelledby": `card-${position}-title`,
        });
        card.append(h("h3", { id: `card-${position}-title`, text: hidden ? `Tone ${toneLetter(position)}` : c.name }));
        if (hidden) {
          card.append(h("p", { class: "muted", text: "Gear and measurements are hidden until you reveal." }));
          return card;
        }
        card.append(
          h(
            "ul",
            { class: "gear" },
            ...c.gear.map((g) =>
              h("li", {}, h("span", { class: "gear-kind", text: g.kind }), " ", h("strong", { text: g.title }), g.details.length ? h("span", { class: "muted", text: ` · ${g.details.join(" · ")}` }) : null),
            ),
          ),
          metricLine(c.result?.metrics),
        );
        const input = inputLine(c.result?.inputLevel);
        if (input) card.append(input);
        if (c.result?.evaluation.length) {
          card.append(h("ul", { class: "evaluation" }, ...c.result.evaluation.map((s) => h("li", { text: s }))));
        }
        const chainPlots = data.artifacts.filter((a) => a.chainIndex === chain && (a.kind === ArtifactKind.LEVEL_CHART || a.kind === ArtifactKind.SPECTRUM_PLOT));
        for (const plot of chainPlots) {
          const img = h("img", { class: "plot", alt: `${plot.kind === ArtifactKind.LEVEL_CHART ? "Level chart" : "Spectrum"} of ${c.name}` });
          void data.url(plot).then((u) => (img.src = u));
          card.append(img);
        }
        const listen = h("button", { type: "button", text: `Listen to ${c.name}`, disabled: !engine });
        listen.addEventListener("click", () => engine?.select(chain));
        card.append(listen);
        return card;
      }),
    );
  }

  // --- blind mode -------------------------------------------------------------------------
  function renderBlind(): void {
    if (!blind.on) {
      blindPanel.replaceChildren();
      return;
    }
    const picks = h("fieldset", { class: "blind-picks" }, h("legend", { text: "Your favourite (and, if you like, a ranking)" }));
    const reveal = h("button", { id: "blind-reveal", type: "button", class: "primary", text: blind.revealed ? "Hide again (new round)" : "Reveal", disabled: !blind.revealed && blind.favourite === null });
    for (let slot = 0; slot < count; slot++) {
      const id = `blind-pick-${slot}`;
      const radio = h("input", { type: "radio", name: "blind-favourite", id, value: slot, checked: blind.favourite === slot, disabled: blind.revealed });
      radio.addEventListener("change", () => {
        blind.favourite = slot;
        saveBlind(data.resultKey, blind);
        reveal.disabled = false;
      });
      const rank = h("select", { id: `blind-rank-${slot}`, "aria-label": `Rank of Tone ${toneLetter(slot)}`, disabled: blind.revealed });
      rank.append(h("option", { value: "", text: "rank…" }));
      for (let r = 1; r <= count; r++) rank.append(h("option", { value: r, text: `#${r}`, selected: blind.ranks[slot] === r }));
      rank.addEventListener("change", () => {
        if (rank.value) blind.ranks[slot] = Number(rank.value);
        else delete blind.ranks[slot];
        saveBlind(data.resultKey, blind);
      });
      picks.append(h("div", { class: "field" }, radio, h("label", { for: id, class: "inline", text: ` Tone ${toneLetter(slot)}` }), " ", rank));
    }
    reveal.addEventListener("click", () => {
      if (blind.revealed) {
        blind.revealed = false;
        blind.favourite = null;
        blind.ranks = {};
      } else {
        blind.revealed = true;
      }
      saveBlind(data.resultKey, blind);
      refresh();
    });
    const parts: HTMLElement[] = [
      h("p", { class: "muted", text: "The chains play as Tone A, B, C… in an order fixed for this result. Pick the one you like best, then reveal." }),
      picks,
      reveal,
    ];
    if (blind.revealed) parts.push(revealSummary());
    blindPanel.replaceChildren(...parts);
  }

  function revealSummary(): HTMLElement {
    const list = h("ul", { id: "blind-reveal-list" });
    order.forEach((chain, slot) => {
      const mine = blind.favourite === slot;
      list.append(h("li", { "data-slot": slot, "data-chain": chain, class: mine ? "favourite" : undefined }, `Tone ${toneLetter(slot)} was `, h("strong", { text: data.chains[chain].name }), mine ? " — your favourite" : "", blind.ranks[slot] ? ` (you ranked it #${blind.ranks[slot]})` : ""));
    });
    const out = h("div", { id: "blind-result" }, list);
    if (blind.favourite !== null) {
      const chain = order[blind.favourite];
      out.append(h("p", { id: "blind-comparison", text: compareWithMetrics(chain) }));
    }
    return out;
  }

  function compareWithMetrics(chain: number): string {
    const name = data.chains[chain].name;
    const all = data.chains.map((c) => c.result?.metrics);
    const m = all[chain];
    if (!m || all.some((x) => !x)) return `You picked ${name}.`;
    const rank = (get: (x: ChainMetrics) => number) => 1 + all.filter((x) => get(x as ChainMetrics) > get(m)).length;
    const ordinal = (n: number) => (n === 1 ? "the" : `the ${n}${n === 2 ? "nd" : n === 3 ? "rd" : "th"}`);
    const bright = rank((x) => x.spectralCentroidHz);
    const dynamic = rank((x) => x.crestFactorDb);
    const lows = rank((x) => x.lowBandEnergyRatio);
    const sentences = [
      `You picked ${name}: ${ordinal(bright)} brightest of ${count} (${Math.round(m.spectralCentroidHz)} Hz)`,
      `${ordinal(dynamic)} most dynamic (crest ${m.crestFactorDb.toFixed(1)} dB)`,
      `and ${ordinal(lows)} heaviest in the lows (${pct(m.lowBandEnergyRatio)}).`,
    ];
    const evaluation = data.chains[chain].result?.evaluation ?? [];
    return `${sentences.join(", ")}${evaluation.length ? ` ${evaluation.join(" ")}` : ""} All chains were matched in loudness, so the difference you heard is tone, not level.`;
  }

  // --- waveform ---------------------------------------------------------------------------
  function draw(): void {
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const { width, height } = canvas;
    ctx.clearRect(0, 0, width, height);
    const duration = engine?.duration ?? 1;
    const x = (t: number) => (t / duration) * width;
    const loop = engine?.loop ?? dragRegion;
    if (loop) {
      ctx.fillStyle = engine?.loop ? "rgba(42,111,219,0.22)" : "rgba(42,111,219,0.10)";
      ctx.fillRect(x(loop.start), 0, x(loop.end) - x(loop.start), height);
    }
    if (peaks) {
      ctx.fillStyle = "#7a8699";
      const max = Math.max(...peaks, 1e-6);
      for (let i = 0; i < peaks.length; i++) {
        const v = (peaks[i] / max) * (height / 2 - 4);
        ctx.fillRect((i / peaks.length) * width, height / 2 - v, Math.max(1, width / peaks.length - 1), 2 * v);
      }
    }
    if (engine) {
      const at = engine.position();
      ctx.fillStyle = "#d23a1e";
      ctx.fillRect(x(at) - 1, 0, 3, height);
      clock.textContent = `${time(at)} / ${time(engine.duration)}`;
      canvas.setAttribute("aria-valuenow", at.toFixed(1));
      canvas.setAttribute("aria-valuetext", `${time(at)} of ${time(engine.duration)}`);
    }
  }

  let frame = 0;
  const tick = () => {
    draw();
    frame = requestAnimationFrame(tick);
  };

  const timeAt = (event: PointerEvent) => {
    const rect = canvas.getBoundingClientRect();
    return Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width)) * (engine?.duration ?? 0);
  };
  let downAt: number | null = null;
  canvas.addEventListener("pointerdown", (event) => {
    if (!engine) return;
    downAt = timeAt(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (downAt === null || !engine) return;
    const t = timeAt(event);
    dragRegion = { start: Math.min(downAt, t), end: Math.max(downAt, t) };
  });
  canvas.addEventListener("pointerup", (event) => {
    if (downAt === null || !engine) return;
    const t = timeAt(event);
    if (Math.abs(t - downAt) < 0.1) {
      dragRegion = null;
      engine.seek(t);
    } else {
      dragRegion = { start: Math.min(downAt, t), end: Math.max(downAt, t) };
      engine.setLoop(dragRegion);
    }
    downAt = null;
  });

  // --- transport --------------------------------------------------------------------------
  play.addEventListener("click", () => engine?.toggle());
  loopButton.addEventListener("click", () => toggleLoop());
  function toggleLoop(): void {
    if (!engine) return;
    if (engine.loop) engine.setLoop(null);
    else if (dragRegion) engine.setLoop(dragRegion);
    else {
      // No region dragged yet: loop four seconds from the playhead.
      const at = engine.position();
      engine.setLoop({ start: at, end: Math.min(engine.duration, at + 4) });
    }
  }
  blindToggle.addEventListener("change", () => {
    blind.on = blindToggle.checked;
    saveBlind(data.resultKey, blind);
    refresh();
  });

  function refresh(): void {
    // Names are everywhere in the extras (plots, the A/B file, the table): hidden while blind.
    extras.hidden = blind.on && !blind.revealed;
    renderSwitcher();
    renderCards();
    renderBlind();
    charts.draw(engine?.currentChain ?? 0);
    if (engine) {
      play.textContent = engine.isPlaying ? "Pause" : "Play";
      play.setAttribute("aria-pressed", engine.isPlaying ? "true" : "false");
      const loop = engine.loop;
      loopButton.textContent = loop ? `Loop: ${time(loop.start)}–${time(loop.end)}` : "Loop: off";
      loopButton.setAttribute("aria-pressed", loop ? "true" : "false");
    }
  }

  const onKey = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement | null;
    if (target && ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName) && (target as HTMLInputElement).type !== "checkbox" && (target as HTMLInputElement).type !== "radio") return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!engine) return;
    if (event.key === " " && target?.tagName !== "BUTTON") {
      event.preventDefault();
      engine.toggle();
    } else if (/^[1-9]$/.test(event.key)) {
      const slot = Number(event.key) - 1;
      if (slot < count) engine.select(blind.on ? order[slot] : slot);
    } else if (event.key === "ArrowLeft" && target !== canvas) {
      engine.seek(engine.position() - 5);
    } else if (event.key === "ArrowRight" && target !== canvas) {
      engine.seek(engine.position() + 5);
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      engine.seek(engine.position() + (event.key === "ArrowLeft" ? -5 : 5));
    } else if (event.key === "l" || event.key === "L") {
      toggleLoop();
    } else if (event.key === "Escape") {
      dragRegion = null;
      engine.setLoop(null);
    } else if (event.key === "b" || event.key === "B") {
      blindToggle.checked = !blindToggle.checked;
      blindToggle.dispatchEvent(new Event("change"));
    }
  };
  document.addEventListener("keydown", onKey);
  teardown = () => {
    document.removeEventListener("keydown", onKey);
    cancelAnimationFrame(frame);
    engine?.close();
  };

  // --- the rest of the page -----------------------------------------------------------------
  const extras = h("div", { id: "room-extras" });
  const shortcuts = h(
    "details",
    { class: "shortcuts" },
    h("summary", { text: "Keyboard shortcuts" }),
    h("dl", {}, ...SHORTCUTS.flatMap(([k, what]) => [h("dt", {}, h("kbd", { text: k })), h("dd", { text: what })])),
  );
  container.replaceChildren(
    h(
      "section",
      { id: "room", class: "room", "aria-labelledby": "room-title" },
      h("h2", { id: "room-title", text: data.title }),
      h("p", { class: "muted", text: data.subtitle }),
      data.actions ?? null,
      h(
        "div",
        { class: "player", role: "region", "aria-label": "Player" },
        h("div", { class: "transport" }, play, " ", clock, " ", loopButton, " ", h("label", { class: "inline", for: "blind-toggle" }, blindToggle, " Blind mode ", h("kbd", { text: "B" }))),
        canvas,
        switcher,
        nowPlaying,
        status,
        shortcuts,
      ),
      blindPanel,
      h("h3", { text: "The chains" }),
      cards,
      extras,
    ),
  );
  refresh();
  void fillExtras(extras, data, charts);

  // Load and decode every chain, then start the engine.
  void (async () => {
    try {
      const audible = data.chains.map((_, i) => chainAudio(data.artifacts, i));
      if (audible.some((a) => !a)) throw new Error("this result has no per-chain audio");
      const context = new AudioContext();
      let loaded = 0;
      const buffers = await Promise.all(
        audible.map(async (artifact) => {
          const response = await fetch(await data.url(artifact as Artifact));
          if (!response.ok) throw new Error(`the audio could not be downloaded (HTTP ${response.status})`);
          const buffer = await context.decodeAudioData(await response.arrayBuffer());
          loaded += 1;
          status.textContent = `Loading the audio (${loaded} of ${count})…`;
          return buffer;
        }),
      );
      engine = new AbEngine(context, buffers);
      engine.onChange(refresh);
      const di = await diWaveform(data);
      peaks = di ?? envelope(buffers, 600);
      // What the waveform shows, for tests and curious readers of the page.
      canvas.dataset.waveform = di ? "di" : "chains";
      play.disabled = false;
      loopButton.disabled = false;
      status.textContent = `Ready: ${count} chains in sync. Press Space to play, 1–${Math.min(count, 9)} to switch.`;
      status.dataset.ready = "true";
      refresh();
      frame = requestAnimationFrame(tick);
    } catch (err) {
      status.textContent = `The instant A/B is unavailable: ${describe(err)}. The A/B file below still plays.`;
      status.setAttribute("role", "alert");
    }
  })();
}

function pct(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

async function fillExtras(extras: HTMLElement, data: RoomData, charts: ResultCharts): Promise<void> {
  try {
    const parts: HTMLElement[] = [h("h3", { text: "Plots" }), charts.element];
    const spectrum = shared(data.artifacts, ArtifactKind.SPECTRUM_DATA);
    if (spectrum) {
      // Results rendered before spectrum.json existed keep their PNG only.
      void fetch(await data.url(spectrum))
        .then((r) => (r.ok ? r.json() : null))
        .then((body) => {
          const parsed = parseSpectrum(body);
          if (parsed) charts.setSpectrum(parsed);
        })
        .catch(() => undefined);
    }
    const plot = shared(data.artifacts, ArtifactKind.SPECTRUM_PLOT);
    const levels = shared(data.artifacts, ArtifactKind.LEVEL_CHART);
    if (plot || levels) {
      const figures = h("div", { class: "plots" });
      if (plot) figures.append(h("figure", {}, h("img", { id: "spectrum-plot", class: "plot", src: await data.url(plot), alt: "Spectrum of every chain, overlaid" }), h("figcaption", { text: "Spectrum, every chain overlaid" })));
      if (levels) figures.append(h("figure", {}, h("img", { id: "level-chart", class: "plot", src: await data.url(levels), alt: "Level of every chain over time" }), h("figcaption", { text: "Levels over time" })));
      parts.push(h("details", { class: "plot-images" }, h("summary", { text: "The plots as images (PNG, for sharing)" }), figures));
    }
    const ab = shared(data.artifacts, ArtifactKind.AB_FLAC);
    if (ab) {
      const src = await data.url(ab);
      parts.push(
        h("h3", { text: "The back-to-back A/B file" }),
        h("p", { class: "muted", text: "Every chain in turn, as one file (the video uses it too)." }),
        h("audio", { id: "ab-audio", controls: true, preload: "none", src, "aria-label": "Back-to-back A/B file" }),
        h("p", {}, h("a", { id: "ab-download", href: src, download: ab.filename, "data-artifact-id": ab.id, text: `Download ${ab.filename}` })),
      );
    }
    const video = shared(data.artifacts, ArtifactKind.VIDEO);
    if (video) parts.push(h("p", {}, h("a", { id: "video-download", href: await data.url(video), download: video.filename, "data-artifact-id": video.id, text: `Download the video (${video.filename})` })));
    parts.push(metricsTable(data));
    extras.replaceChildren(...parts);
  } catch (err) {
    extras.replaceChildren(h("p", { role: "alert", text: `Some of the results could not be loaded: ${describe(err)}` }));
  }
}

const METRICS: [string, (m: ChainMetrics) => string][] = [
  ["Integrated loudness (LUFS)", (m) => m.integratedLufs.toFixed(1)],
  ["True peak (dBTP)", (m) => m.truePeakDbtp.toFixed(1)],
  ["RMS (dBFS)", (m) => m.rmsDbfs.toFixed(1)],
  ["Crest factor (dB)", (m) => m.crestFactorDb.toFixed(1)],
  ["Loudness range (LU)", (m) => m.loudnessRangeLu.toFixed(1)],
  ["Spectral centroid (Hz)", (m) => m.spectralCentroidHz.toFixed(0)],
  ["Low / mid / high energy", (m) => `${m.lowBandEnergyRatio.toFixed(2)} / ${m.midBandEnergyRatio.toFixed(2)} / ${m.highBandEnergyRatio.toFixed(2)}`],
];

function metricsTable(data: RoomData): HTMLElement {
  const head = h("tr", {}, h("th", { scope: "col", text: "Measurement" }), ...data.chains.map((c) => h("th", { scope: "col", text: c.name })));
  const rows = METRICS.map(([name, get]) =>
    h("tr", {}, h("th", { scope: "row", text: name }), ...data.chains.map((c) => h("td", { text: c.result?.metrics ? get(c.result.metrics) : "–" }))),
  );
  return h(
    "details",
    { class: "all-metrics" },
    h("summary", { text: "All measurements" }),
    h("div", { class: "table-scroll" }, h("table", { id: "metrics" }, h("caption", { class: "muted", text: "Measured after loudness matching" }), h("thead", {}, head), h("tbody", {}, ...rows))),
  );
}
