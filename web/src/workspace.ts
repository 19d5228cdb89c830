// The signed-in workspace. Everything lives on the server: the list of my shootouts and
// their renders (ListShootouts, ListJobs), uploaded files (AssetService). Opening a
// shootout (`/shootouts/<id>`) restores its chains into the editor; opening a render
// (`/shootouts/<id>/renders/<job id>`) shows its progress, re-attaching to the live
// stream when it still runs, or its result in the listening room. A reload lands on the
// same page. Chains are edited block by block: every block kind the engine renders.
import { create } from "@bufbuild/protobuf";
import { assets, jobs, library, shootouts } from "./api";
import { ARCHITECTURE, DELAY_PRESET, EQ_SHAPE, REVERB_PRESET, SIZE, architecturesOf, gearOf } from "./gear";
import { AssetKind } from "./gen/gts/v1/common_pb";
import { JobStatus, type Job } from "./gen/gts/v1/job_pb";
import { ToneFormat, type Tone } from "./gen/gts/v1/library_pb";
import {
  type Block,
  BlockSchema,
  DelayPreset,
  EqBandType,
  InputLevelMode,
  type ModelSource,
  ModelSourceSchema,
  ReverbPreset,
  type Shootout,
  type SignalChain,
  SignalChainSchema,
} from "./gen/gts/v1/shootout_pb";
import { type Asset } from "./gen/gts/v1/upload_pb";
import { resumeWatchedJob, watchJob } from "./job";
import { uploadFailure, uploadFile } from "./upload";
import { clearNotice, describe, formatBytes, h, notify, randomId, timestampMs } from "./util";

interface Source {
  key: string;
  label: string;
  kind: "nam" | "ir";
  source: ModelSource;
  /** A stand-in label until the file's facts are known. */
  placeholder?: boolean;
}

interface ChainDraft {
  id: string;
  /** The chain's id on the server, once saved. */
  serverId: string;
  name: string;
  blocks: Block[];
  /** The chain's input high-pass corner in Hz; 0 turns it off. */
  highPassHz: number;
  /** Calibrated when the amp's metadata allows (auto), or always the RMS level. */
  inputMode: InputLevelMode;
}

const state = {
  diAssets: [] as Asset[],
  sources: [] as Source[],
  chains: [] as ChainDraft[],
  /** The shootout open in the editor (saved on the server), if any. */
  open: null as Shootout | null,
};

const BLOCK_KINDS: { kind: NonNullable<Block["kind"]["case"]>; label: string }[] = [
  { kind: "namModel", label: "Amp / pedal (NAM)" },
  { kind: "cabinetIr", label: "Cabinet IR" },
  { kind: "highPass", label: "High-pass filter" },
  { kind: "eq", label: "EQ band" },
  { kind: "gain", label: "Gain" },
  { kind: "delay", label: "Delay" },
  { kind: "reverb", label: "Reverb" },
  { kind: "noiseGate", label: "Noise gate" },
];

function sourceKey(source: ModelSource | undefined): string {
  const s = source?.source;
  if (s?.case === "assetId") return `asset:${s.value}`;
  if (s?.case === "tone3000Model") return `t3k:${s.value.toneId}:${s.value.modelId}`;
  return "";
}

function assetSource(asset: Asset, kind: "nam" | "ir"): Source {
  const facts = asset.facts.case === "nam" ? asset.facts.value : undefined;
  return {
    key: `asset:${asset.id}`,
    label: `${facts?.name ? `${facts.name} — ` : ""}${asset.filename} (uploaded)`,
    kind,
    source: create(ModelSourceSchema, { source: { case: "assetId", value: asset.id } }),
  };
}

function addSource(source: Source): void {
  const known = state.sources.find((s) => s.key === source.key);
  if (known) {
    if (known.placeholder) {
      known.label = source.label;
      known.placeholder = false;
    }
  } else state.sources.push(source);
  renderSources();
  renderChains();
}

async function loadAssets(): Promise<void> {
  const [di, nam, ir] = await Promise.all([
    assets.listAssets({ kind: AssetKind.DI_TRACK, pageSize: 100 }),
    assets.listAssets({ kind: AssetKind.NAM_MODEL, pageSize: 100 }),
    assets.listAssets({ kind: AssetKind.IMPULSE_RESPONSE, pageSize: 100 }),
  ]);
  state.diAssets = di.assets;
  for (const a of nam.assets) addSource(assetSource(a, "nam"));
  for (const a of ir.assets) addSource(assetSource(a, "ir"));
  renderDiOptions();
}

// --- uploads ----------------------------------------------------------------------------

function uploadForm(id: string, title: string, accept: string, kind: AssetKind, done: (a: Asset) => void): HTMLElement {
  const input = h("input", { id: `${id}-file`, type: "file", accept, "aria-describedby": `${id}-status` });
  const button = h("button", { id: `${id}-upload`, type: "button", text: "Upload" });
  const bar = h("progress", { id: `${id}-progress`, max: 1, value: 0, "aria-label": `${title}: progress` });
  const status = h("p", { id: `${id}-status`, "aria-live": "polite", class: "muted", text: "No file uploaded yet." });
  button.addEventListener("click", async () => {
    const file = input.files?.[0];
    if (!file) {
      status.textContent = "Choose a file first.";
      return;
    }
    button.disabled = true;
    bar.classList.remove("failed");
    status.classList.remove("error");
    status.textContent = `Preparing ${file.name}…`;
    try {
      const asset = await uploadFile(file, kind, ({ sent, total, resumed }) => {
        // The last chunk is checked before the file is accepted: never show a full bar early.
        bar.value = total ? Math.min(sent / total, 0.99) : 0;
        status.textContent = `${resumed ? "Resumed: " : ""}${formatBytes(sent)} of ${formatBytes(total)} sent (${Math.round((100 * sent) / Math.max(total, 1))}%)`;
      });
      bar.value = 1;
      status.textContent = `Uploaded ${asset.filename}.`;
      clearNotice();
      done(asset);
    } catch (err) {
      const failure = uploadFailure(err, kind);
      bar.classList.add("failed");
      if (!failure.retryable) bar.value = 0;
      status.classList.add("error");
      status.textContent = `Upload failed: ${failure.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "upload" },
    h("h3", { text: title }),
    h("div", { class: "field" }, h("label", { for: `${id}-file`, text: "File" }), input, " ", button),
    bar,
    status,
  );
}

// --- library ----------------------------------------------------------------------------

function librarySection(): HTMLElement {
  const query = h("input", { id: "library-query", type: "search", placeholder: "e.g. plexi" });
  const search = h("button", { id: "library-search", type: "submit", text: "Search" });
  const results = h("ul", { id: "library-results", class: "results", "aria-live": "polite" });
  const form = h(
    "form",
    { role: "search" },
    h("div", { class: "field" }, h("label", { for: "library-query", text: "Search TONE3000" }), query, " ", search),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    results.replaceChildren(h("li", { text: "Searching…" }));
    try {
      const response = await library.searchTones({ query: query.value, page: { page: 1, pageSize: 20 } });
      results.replaceChildren(
        ...(response.tones.length ? response.tones.map(toneItem) : [h("li", { text: "No tones found." })]),
      );
    } catch (err) {
      results.replaceChildren(h("li", { text: `Search failed: ${describe(err)}` }));
    }
  });
  return h(
    "section",
    { "aria-labelledby": "library-title" },
    h("h2", { id: "library-title", text: "TONE3000 library" }),
    form,
    results,
  );
}

function toneItem(tone: Tone): HTMLElement {
  const isIr = tone.format === ToneFormat.IR;
  const models = h("ul", { class: "results" });
  const show = h("button", { type: "button", text: `Show ${isIr ? "IRs" : "models"}`, "data-tone-id": String(tone.id) });
  show.addEventListener("click", async () => {
    show.disabled = true;
    try {
      // TONE3000 lists one architecture at a time (A1 unless asked): ask for every
      // architecture the tone has (A1, A2 and custom ones such as LSTM); IR tones list all.
      const architectures = isIr ? [undefined] : architecturesOf(tone);
      const pages = await Promise.all(
        architectures.map((architectureVersion) =>
          library.listModels({ toneId: tone.id, architectureVersion, page: { page: 1, pageSize: 50 } }),
        ),
      );
      const seen = new Set<bigint>();
      const found = pages.flatMap((p) => p.models).filter((m) => !seen.has(m.id) && seen.add(m.id));
      if (found.length === 0) models.replaceChildren(h("li", { class: "muted", text: "No files in this tone." }));
      else
        models.replaceChildren(
          ...found.map((model) => {
            const pick = h("button", { type: "button", text: isIr ? "Use as cabinet IR" : "Use as amp model" });
            const facts = isIr ? "" : [SIZE[model.size], ARCHITECTURE[model.architectureVersion]].filter(Boolean).join(", ");
            pick.addEventListener("click", () =>
              addSource({
                key: `t3k:${tone.id}:${model.id}`,
                label: `${tone.title} — ${model.name}${facts ? ` (${facts})` : ""} (TONE3000)`,
                kind: isIr ? "ir" : "nam",
                source: create(ModelSourceSchema, {
                  source: { case: "tone3000Model", value: { toneId: tone.id, modelId: model.id } },
                }),
              }),
            );
            return h("li", { "data-architecture": model.architectureVersion }, `${model.name}${facts ? ` · ${facts}` : ""} `, pick);
          }),
        );
    } catch (err) {
      notify(`Could not list the models: ${describe(err)}`);
    } finally {
      show.disabled = false;
    }
  });
  const makers = tone.makes.map((m) => m.name).join(", ");
  return h(
    "li",
    {},
    h("strong", { text: tone.title }),
    ` by ${tone.user?.username ?? "unknown"}${makers ? ` · ${makers}` : ""} · ${isIr ? "IR" : "NAM"} · ${tone.modelsCount} files `,
    show,
    models,
  );
}

// --- sources and chains -------------------------------------------------------------------

function renderSources(): void {
  const list = document.getElementById("picked-sources");
  if (!list) return;
  list.replaceChildren(
    ...(state.sources.length
      ? state.sources.map((s) => h("li", { text: `${s.kind === "nam" ? "Amp model" : "Cabinet IR"}: ${s.label}` }))
      : [h("li", { class: "muted", text: "Nothing picked yet: upload files or pick from the library." })]),
  );
}

function sourceSelect(id: string, kind: "nam" | "ir", selected: string): HTMLSelectElement {
  const select = h("select", { id });
  select.append(h("option", { value: "", text: kind === "nam" ? "(choose a model)" : "(choose an IR)" }));
  for (const s of state.sources.filter((x) => x.kind === kind)) {
    select.append(h("option", { value: s.key, text: s.label, selected: s.key === selected }));
  }
  return select;
}

function newBlock(kind: (typeof BLOCK_KINDS)[number]["kind"]): Block {
  const firstOf = (k: "nam" | "ir") => state.sources.find((s) => s.kind === k)?.source;
  switch (kind) {
    case "namModel":
      return create(BlockSchema, { kind: { case: "namModel", value: { source: firstOf("nam"), inputGainDb: 0 } } });
    case "cabinetIr":
      return create(BlockSchema, { kind: { case: "cabinetIr", value: { source: firstOf("ir") } } });
    case "highPass":
      return create(BlockSchema, { kind: { case: "highPass", value: { frequencyHz: 80 } } });
    case "eq":
      return create(BlockSchema, { kind: { case: "eq", value: { bandType: EqBandType.PEAKING, frequencyHz: 800, gainDb: 0, q: 0.707 } } });
    case "gain":
      return create(BlockSchema, { kind: { case: "gain", value: { gainDb: 0 } } });
    case "delay":
      return create(BlockSchema, { kind: { case: "delay", value: { preset: DelayPreset.SLAPBACK } } });
    case "reverb":
      return create(BlockSchema, { kind: { case: "reverb", value: { preset: ReverbPreset.ROOM } } });
    case "noiseGate":
      return create(BlockSchema, { kind: { case: "noiseGate", value: { thresholdDb: -70, releaseMs: 100 } } });
  }
}

/** A number input bound to a getter/setter; blank means unset where `optional`. */
function numberField(id: string, label: string, value: number | undefined, set: (v: number | undefined) => void, opts: { min: number; max: number; step: number; optional?: boolean; hint?: string }): HTMLElement {
  const input = h("input", { id, type: "number", min: opts.min, max: opts.max, step: opts.step, value: value ?? "", placeholder: opts.optional ? "preset" : undefined });
  input.addEventListener("input", () => {
    if (input.value === "") set(opts.optional ? undefined : 0);
    else set(Number(input.value));
  });
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input, opts.hint ? h("span", { class: "muted", text: ` ${opts.hint}` }) : null);
}

/** A 0–1 value edited as a percentage. */
function percentField(id: string, label: string, value: number | undefined, set: (v: number | undefined) => void, optional = true): HTMLElement {
  return numberField(id, `${label} (%)`, value === undefined ? undefined : Math.round(value * 1000) / 10, (v) => set(v === undefined ? undefined : v / 100), { min: 0, max: 100, step: 1, optional });
}

function enumSelect<E extends number>(id: string, label: string, names: Record<E, string>, values: E[], selected: E, set: (v: E) => void): HTMLElement {
  const select = h("select", { id });
  for (const v of values) select.append(h("option", { value: v, text: names[v], selected: v === selected }));
  select.addEventListener("change", () => set(Number(select.value) as E));
  return h("div", { class: "field" }, h("label", { for: id, text: label }), select);
}

function blockEditor(chain: ChainDraft, n: number, block: Block, m: number): HTMLElement {
  const id = `chain-${n}-block-${m}`;
  const k = block.kind;
  const fields: HTMLElement[] = [];
  let title = "";
  switch (k.case) {
    case "namModel": {
      title = "Amp / pedal (NAM)";
      const select = sourceSelect(`${id}-source`, "nam", sourceKey(k.value.source));
      select.addEventListener("change", () => (k.value.source = state.sources.find((s) => s.key === select.value)?.source));
      fields.push(h("div", { class: "field" }, h("label", { for: select.id, text: "Model" }), select));
      fields.push(numberField(`${id}-input-gain`, "Input gain (dB)", k.value.inputGainDb, (v) => (k.value.inputGainDb = v ?? 0), { min: -24, max: 24, step: 0.5 }));
      break;
    }
    case "cabinetIr": {
      title = "Cabinet IR";
      const select = sourceSelect(`${id}-source`, "ir", sourceKey(k.value.source));
      select.addEventListener("change", () => (k.value.source = state.sources.find((s) => s.key === select.value)?.source));
      fields.push(h("div", { class: "field" }, h("label", { for: select.id, text: "IR" }), select));
      fields.push(percentField(`${id}-mix`, "Mix", k.value.mix, (v) => (k.value.mix = v)));
      break;
    }
    case "highPass":
      title = "High-pass filter";
      fields.push(numberField(`${id}-frequency`, "Cut-off (Hz)", k.value.frequencyHz, (v) => (k.value.frequencyHz = v), { min: 20, max: 500, step: 1, optional: true }));
      break;
    case "eq":
      title = "EQ band";
      fields.push(
        enumSelect(`${id}-shape`, "Shape", EQ_SHAPE, [EqBandType.PEAKING, EqBandType.LOW_SHELF, EqBandType.HIGH_SHELF, EqBandType.LOW_PASS, EqBandType.HIGH_PASS], k.value.bandType, (v) => (k.value.bandType = v)),
        numberField(`${id}-frequency`, "Frequency (Hz)", k.value.frequencyHz, (v) => (k.value.frequencyHz = v ?? 0), { min: 20, max: 20000, step: 1 }),
        numberField(`${id}-gain`, "Gain (dB)", k.value.gainDb, (v) => (k.value.gainDb = v ?? 0), { min: -24, max: 24, step: 0.5 }),
        numberField(`${id}-q`, "Q", k.value.q, (v) => (k.value.q = v), { min: 0.1, max: 18, step: 0.1, optional: true }),
      );
      break;
    case "gain":
      title = "Gain";
      fields.push(numberField(`${id}-gain`, "Gain (dB)", k.value.gainDb, (v) => (k.value.gainDb = v ?? 0), { min: -48, max: 24, step: 0.5 }));
      break;
    case "delay":
      title = "Delay";
      fields.push(
        enumSelect(`${id}-preset`, "Preset", DELAY_PRESET, [DelayPreset.SLAPBACK, DelayPreset.QUARTER, DelayPreset.CUSTOM], k.value.preset, (v) => (k.value.preset = v)),
        numberField(`${id}-time`, "Time (ms)", k.value.timeMs, (v) => (k.value.timeMs = v), { min: 1, max: 2000, step: 1, optional: true }),
        percentField(`${id}-feedback`, "Feedback", k.value.feedback, (v) => (k.value.feedback = v)),
        percentField(`${id}-mix`, "Mix", k.value.mix, (v) => (k.value.mix = v)),
      );
      break;
    case "reverb":
      title = "Reverb";
      fields.push(
        enumSelect(`${id}-preset`, "Preset", REVERB_PRESET, [ReverbPreset.ROOM, ReverbPreset.HALL, ReverbPreset.SPRING, ReverbPreset.CUSTOM], k.value.preset, (v) => (k.value.preset = v)),
        numberField(`${id}-decay`, "Decay (s)", k.value.decaySeconds, (v) => (k.value.decaySeconds = v), { min: 0.1, max: 10, step: 0.1, optional: true }),
        numberField(`${id}-pre-delay`, "Pre-delay (ms)", k.value.preDelayMs, (v) => (k.value.preDelayMs = v), { min: 0, max: 200, step: 1, optional: true }),
        percentField(`${id}-mix`, "Mix", k.value.mix, (v) => (k.value.mix = v)),
        percentField(`${id}-damping`, "Damping", k.value.damping, (v) => (k.value.damping = v)),
      );
      break;
    case "noiseGate":
      title = "Noise gate";
      fields.push(
        numberField(`${id}-threshold`, "Threshold (dBFS)", k.value.thresholdDb, (v) => (k.value.thresholdDb = v ?? 0), { min: -96, max: 0, step: 1 }),
        numberField(`${id}-release`, "Release (ms)", k.value.releaseMs, (v) => (k.value.releaseMs = v), { min: 1, max: 1000, step: 1, optional: true }),
      );
      break;
    default:
      title = "Unknown block";
  }
  const up = h("button", { type: "button", text: "↑", "aria-label": `Move ${title} up`, disabled: m === 1 });
  const down = h("button", { type: "button", text: "↓", "aria-label": `Move ${title} down`, disabled: m === chain.blocks.length });
  const remove = h("button", { type: "button", text: "Remove", "aria-label": `Remove ${title} from chain ${n}` });
  const move = (delta: number) => {
    const i = m - 1;
    const j = i + delta;
    [chain.blocks[i], chain.blocks[j]] = [chain.blocks[j], chain.blocks[i]];
    renderChains();
  };
  up.addEventListener("click", () => move(-1));
  down.addEventListener("click", () => move(1));
  remove.addEventListener("click", () => {
    chain.blocks.splice(m - 1, 1);
    renderChains();
  });
  return h(
    "fieldset",
    { class: "block", "data-kind": k.case ?? "" },
    h("legend", { text: `${m}. ${title}` }),
    ...fields,
    h("div", { class: "block-tools" }, up, " ", down, " ", remove),
  );
}

function renderChains(): void {
  const container = document.getElementById("chains");
  if (!container) return;
  container.replaceChildren(
    ...state.chains.map((chain, index) => {
      const n = index + 1;
      const name = h("input", { id: `chain-${n}-name`, type: "text", value: chain.name, required: true });
      name.addEventListener("input", () => (chain.name = name.value));
      const highPass = h("input", { id: `chain-${n}-high-pass`, type: "number", min: "0", max: "500", step: "1", value: chain.highPassHz });
      highPass.addEventListener("input", () => (chain.highPassHz = highPass.value === "" ? 80 : Number(highPass.value)));
      const inputMode = h(
        "select",
        { id: `chain-${n}-input-mode` },
        h("option", { value: String(InputLevelMode.AUTO), text: "Calibrated from the amp's capture level (when it states one)", selected: chain.inputMode !== InputLevelMode.RMS }),
        h("option", { value: String(InputLevelMode.RMS), text: "Always the same RMS level as the other RMS chains", selected: chain.inputMode === InputLevelMode.RMS }),
      );
      inputMode.addEventListener("change", () => (chain.inputMode = Number(inputMode.value) as InputLevelMode));
      const kind = h("select", { id: `chain-${n}-add-kind`, "aria-label": `Block to add to chain ${n}` });
      for (const b of BLOCK_KINDS) kind.append(h("option", { value: b.kind, text: b.label }));
      const add = h("button", { id: `chain-${n}-add-block`, type: "button", text: "Add block" });
      add.addEventListener("click", () => {
        chain.blocks.push(newBlock(kind.value as (typeof BLOCK_KINDS)[number]["kind"]));
        renderChains();
        document.getElementById(`chain-${n}-block-${chain.blocks.length}-source`)?.focus();
      });
      const remove = h("button", { type: "button", text: `Remove chain ${n}` });
      remove.addEventListener("click", () => {
        state.chains = state.chains.filter((c) => c.id !== chain.id);
        renderChains();
      });
      return h(
        "fieldset",
        { class: "chain", id: `chain-${n}` },
        h("legend", { text: `Chain ${n}: ${chain.name}` }),
        h("div", { class: "field" }, h("label", { for: name.id, text: "Name" }), name),
        h("div", { class: "field" }, h("label", { for: highPass.id, text: "Input high-pass (Hz, 0 = off)" }), highPass),
        h("div", { class: "field" }, h("label", { for: inputMode.id, text: "DI level into the amp" }), inputMode),
        h("div", { class: "blocks" }, ...chain.blocks.map((b, i) => blockEditor(chain, n, b, i + 1))),
        h("div", { class: "field" }, kind, " ", add),
        remove,
      );
    }),
  );
}

function renderDiOptions(): void {
  const select = document.getElementById("di-select") as HTMLSelectElement | null;
  if (!select) return;
  const previous = select.value || state.open?.diTracks[0]?.assetId || "";
  select.replaceChildren(
    ...(state.diAssets.length
      ? state.diAssets.map((a) => h("option", { value: a.id, text: a.filename, selected: a.id === previous }))
      : [h("option", { value: "", text: "(upload a DI first)" })]),
  );
}

function defaultChain(n: number): ChainDraft {
  return { id: randomId(), serverId: "", name: `Chain ${n}`, blocks: [newBlock("namModel"), newBlock("cabinetIr")], highPassHz: 80, inputMode: InputLevelMode.AUTO };
}

/** The chains as the API takes them; throws a message naming the chain and block. */
function chainMessages(): SignalChain[] {
  return state.chains.map((c, i) => {
    const name = c.name.trim() || `Chain ${i + 1}`;
    if (!c.blocks.some((b) => b.kind.case === "namModel")) throw new Error(`${name} needs an amp model: add a NAM block`);
    c.blocks.forEach((b, j) => {
      if ((b.kind.case === "namModel" || b.kind.case === "cabinetIr") && !b.kind.value.source) {
        throw new Error(`${name}, block ${j + 1}: choose its ${b.kind.case === "namModel" ? "model" : "IR"} (or remove the block)`);
      }
    });
    return create(SignalChainSchema, { id: c.serverId, displayName: name, blocks: c.blocks, inputHighPassHz: c.highPassHz, inputLevelMode: c.inputMode });
  });
}

/** Saves the editor: a new shootout, or the open one updated chain by chain. */
async function save(name: string, di: string, video: boolean, calibrationDbu: number | undefined): Promise<Shootout> {
  const chains = chainMessages();
  const open = state.open;
  if (!open) {
    const { shootout } = await shootouts.createShootout({
      shootout: { name, diTracks: [{ assetId: di, label: "DI" }], chains, outputOptions: { videoEnabled: video, diCalibrationDbu: calibrationDbu } },
    });
    if (!shootout) throw new Error("CreateShootout returned no shootout");
    return shootout;
  }
  let current = (
    await shootouts.updateShootout({
      shootout: { id: open.id, name, diTracks: [{ assetId: di, label: "DI" }], outputOptions: { ...open.outputOptions, videoEnabled: video, diCalibrationDbu: calibrationDbu } },
      updateMask: { paths: ["name", "di_tracks", "output_options.video_enabled", "output_options.di_calibration_dbu"] },
    })
  ).shootout;
  const keep = new Set(chains.map((c) => c.id).filter(Boolean));
  for (const old of open.chains) {
    if (!keep.has(old.id)) current = (await shootouts.removeChain({ shootoutId: open.id, chainId: old.id })).shootout;
  }
  const ids: string[] = [];
  for (const chain of chains) {
    if (chain.id && open.chains.some((c) => c.id === chain.id)) {
      current = (await shootouts.updateChain({ shootoutId: open.id, chain, updateMask: { paths: ["display_name", "blocks", "input_high_pass_hz"] } })).shootout;
      ids.push(chain.id);
    } else {
      const added = await shootouts.addChain({ shootoutId: open.id, chain });
      current = added.shootout;
      ids.push(added.chainId);
    }
  }
  current = (await shootouts.reorderChains({ shootoutId: open.id, chainIds: ids })).shootout;
  if (!current) throw new Error("the shootout was not saved");
  return current;
}

async function submit(button: HTMLButtonElement): Promise<void> {
  const name = (document.getElementById("shootout-name") as HTMLInputElement).value.trim();
  const di = (document.getElementById("di-select") as HTMLSelectElement).value;
  const video = (document.getElementById("shootout-video") as HTMLInputElement).checked;
  const calibrationField = (document.getElementById("shootout-calibration") as HTMLInputElement).value.trim();
  // Empty: the service's default calibration.
  const calibrationDbu = calibrationField === "" ? undefined : Number(calibrationField);
  if (!name) return notify("Give the shootout a name.");
  if (calibrationDbu !== undefined && !Number.isFinite(calibrationDbu)) return notify("The DI calibration is a number of dBu, e.g. 12.");
  if (!di) return notify("Upload or choose a DI recording first.");
  if (state.chains.length < 2) return notify("Add at least two chains to compare.");
  button.disabled = true;
  try {
    const shootout = await save(name, di, video, calibrationDbu);
    openShootout(shootout, false);
    const { job } = await jobs.submitJob({ shootoutId: shootout.id, idempotencyKey: randomId() });
    if (!job) throw new Error("SubmitJob returned no job");
    clearNotice();
    go(`/shootouts/${shootout.id}/renders/${job.id}`);
    watchJob(job.id, "", shootout.name);
    void renderLibraryOfShootouts();
  } catch (err) {
    notify(`Could not render: ${describe(err)}`);
  } finally {
    button.disabled = false;
  }
}

// --- my shootouts -----------------------------------------------------------------------------

const STATUS_WORD: Record<JobStatus, string> = {
  [JobStatus.UNSPECIFIED]: "",
  [JobStatus.QUEUED]: "queued",
  [JobStatus.RUNNING]: "rendering",
  [JobStatus.SUCCEEDED]: "ready",
  [JobStatus.FAILED]: "failed",
  [JobStatus.CANCELLED]: "cancelled",
};

function go(path: string): void {
  if (window.location.pathname !== path) window.history.pushState(null, "", path);
}

async function renderLibraryOfShootouts(): Promise<void> {
  const list = document.getElementById("my-shootouts");
  if (!list) return;
  try {
    const [{ shootouts: mine }, { jobs: renders }] = await Promise.all([
      shootouts.listShootouts({ pageSize: 50 }),
      jobs.listJobs({ pageSize: 100 }),
    ]);
    const bySht = new Map<string, Job[]>();
    for (const j of renders) bySht.set(j.shootoutId, [...(bySht.get(j.shootoutId) ?? []), j]);
    if (!mine.length) {
      list.replaceChildren(h("li", { class: "muted", text: "None yet: build one below." }));
      return;
    }
    list.replaceChildren(
      ...mine.map((s) => {
        const open = h("button", { type: "button", class: "link", "data-shootout-id": s.id, text: s.name || "(untitled)" });
        open.addEventListener("click", () => {
          go(`/shootouts/${s.id}`);
          openShootout(s, true);
        });
        const items = (bySht.get(s.id) ?? []).slice(0, 5).map((j) => {
          const when = new Date(timestampMs(j.createdAt)).toLocaleString();
          const b = h("button", { type: "button", class: `render ${STATUS_WORD[j.status]}`, "data-job-id": j.id, text: `${STATUS_WORD[j.status]} · ${when}` });
          b.addEventListener("click", () => {
            go(`/shootouts/${s.id}/renders/${j.id}`);
            openShootout(s, true);
            watchJob(j.id, "", s.name);
          });
          return h("li", {}, b);
        });
        return h("li", { class: state.open?.id === s.id ? "open" : undefined }, open, h("span", { class: "muted", text: ` · ${s.chains.length} chains` }), items.length ? h("ul", { class: "renders" }, ...items) : null);
      }),
    );
  } catch (err) {
    list.replaceChildren(h("li", { role: "alert", text: `Could not list your shootouts: ${describe(err)}` }));
  }
}

/** Puts a saved shootout in the editor. */
function openShootout(shootout: Shootout, replaceDrafts: boolean): void {
  state.open = shootout;
  if (replaceDrafts) {
    state.chains = shootout.chains.map((c) => ({ id: randomId(), serverId: c.id, name: c.displayName, blocks: c.blocks.map((b) => create(BlockSchema, b)), highPassHz: c.inputHighPassHz ?? 80, inputMode: c.inputLevelMode === InputLevelMode.RMS ? InputLevelMode.RMS : InputLevelMode.AUTO }));
    // Sources the chains use that are not listed yet (library picks of an earlier visit).
    for (const c of shootout.chains) {
      for (const b of c.blocks) {
        if (b.kind.case !== "namModel" && b.kind.case !== "cabinetIr") continue;
        const source = b.kind.value.source;
        const key = sourceKey(source);
        if (!key || !source || state.sources.some((s) => s.key === key)) continue;
        const kind = b.kind.case === "namModel" ? "nam" : "ir";
        const label = key.startsWith("asset:") ? "Uploaded file" : `TONE3000 model ${key.split(":")[2] ?? ""}`;
        state.sources.push({ key, label, kind, source, placeholder: true });
        void gearOf([b], undefined, true).then(([line]) => {
          if (line) addSource({ key, label: `${line.title}${line.details.length ? ` (${line.details.join(", ")})` : ""}`, kind, source });
        });
      }
    }
  }
  const name = document.getElementById("shootout-name") as HTMLInputElement | null;
  if (name) name.value = shootout.name;
  const video = document.getElementById("shootout-video") as HTMLInputElement | null;
  if (video) video.checked = shootout.outputOptions?.videoEnabled ?? true;
  const calibration = document.getElementById("shootout-calibration") as HTMLInputElement | null;
  if (calibration) calibration.value = shootout.outputOptions?.diCalibrationDbu?.toString() ?? "";
  const editing = document.getElementById("editing");
  if (editing) {
    const fresh = h("button", { id: "new-shootout", type: "button", text: "Start a new shootout" });
    fresh.addEventListener("click", () => {
      state.open = null;
      state.chains = [defaultChain(1), defaultChain(2)];
      go("/");
      editing.replaceChildren(h("span", { class: "muted", text: "A new shootout." }));
      renderChains();
    });
    editing.replaceChildren(h("span", { id: "editing-name", text: `Editing “${shootout.name}”; rendering saves your changes to it. ` }), fresh);
  }
  renderDiOptions();
  renderSources();
  renderChains();
}

/** Opens what the address names (a reload lands here). */
async function openFromLocation(): Promise<void> {
  const match = window.location.pathname.match(/^\/shootouts\/([0-9a-f-]{36})(?:\/renders\/([0-9a-f-]{36}))?/);
  if (!match) {
    // A render watched before the reload resumes.
    resumeWatchedJob();
    return;
  }
  const [, shootoutId, jobId] = match;
  try {
    const { shootout } = await shootouts.getShootout({ shootoutId });
    if (shootout) openShootout(shootout, true);
    if (jobId) {
      let after = "";
      try {
        const saved = JSON.parse(localStorage.getItem("gts.job") ?? "null") as { jobId: string; lastEventId?: string } | null;
        if (saved?.jobId === jobId) after = saved.lastEventId ?? "";
      } catch {
        // Start from a fresh snapshot.
      }
      watchJob(jobId, after, shootout?.name ?? "");
    }
  } catch (err) {
    notify(`Could not open this shootout: ${describe(err)}`);
  }
}

export function renderWorkspace(app: HTMLElement): void {
  if (state.chains.length === 0) state.chains = [defaultChain(1), defaultChain(2)];
  const addChain = h("button", { id: "add-chain", type: "button", text: "Add a chain" });
  addChain.addEventListener("click", () => {
    state.chains.push(defaultChain(state.chains.length + 1));
    renderChains();
  });
  const submitButton = h("button", { id: "submit-shootout", type: "button", class: "primary", text: "Render the shootout" });
  submitButton.addEventListener("click", () => void submit(submitButton));

  app.replaceChildren(
    h("section", { id: "job", class: "job", "aria-labelledby": "job-title", hidden: true }),
    h(
      "section",
      { id: "workspace", "aria-labelledby": "mine-title" },
      h("h2", { id: "mine-title", text: "Your shootouts" }),
      h("ul", { id: "my-shootouts", class: "shootouts" }, h("li", { class: "muted", text: "Loading…" })),
    ),
    h(
      "section",
      { "aria-labelledby": "di-title" },
      h("h2", { id: "di-title", text: "1. Your DI recording" }),
      uploadForm("di", "Upload a DI (WAV, FLAC, MP3, AIFF, OGG)", "audio/*,.wav,.flac,.mp3,.aiff,.aif,.ogg", AssetKind.DI_TRACK, (a) => {
        state.diAssets.unshift(a);
        renderDiOptions();
        (document.getElementById("di-select") as HTMLSelectElement).value = a.id;
      }),
    ),
    h(
      "section",
      { "aria-labelledby": "models-title" },
      h("h2", { id: "models-title", text: "2. Amp models and cabinet IRs" }),
      uploadForm("nam", "Upload your own .nam model", ".nam", AssetKind.NAM_MODEL, (a) => addSource(assetSource(a, "nam"))),
      uploadForm("ir", "Upload your own cabinet IR (WAV)", ".wav,audio/wav", AssetKind.IMPULSE_RESPONSE, (a) => addSource(assetSource(a, "ir"))),
      h("h3", { text: "Picked" }),
      h("ul", { id: "picked-sources" }),
    ),
    librarySection(),
    h(
      "section",
      { "aria-labelledby": "chains-title" },
      h("h2", { id: "chains-title", text: "3. Signal chains" }),
      h("p", { id: "editing", class: "muted", text: "A new shootout." }),
      h("p", { class: "muted", text: "Every chain plays the same DI at the same input level; the results are levelled to the same loudness." }),
      h("div", { id: "chains" }),
      addChain,
    ),
    h(
      "section",
      { "aria-labelledby": "render-title" },
      h("h2", { id: "render-title", text: "4. Render" }),
      h("div", { class: "field" }, h("label", { for: "shootout-name", text: "Shootout name" }), h("input", { id: "shootout-name", type: "text", value: "My shootout" })),
      h("div", { class: "field" }, h("label", { for: "di-select", text: "DI recording" }), h("select", { id: "di-select" })),
      h(
        "div",
        { class: "field" },
        h("label", { for: "shootout-calibration", text: "DI calibration (dBu at 0 dBFS)" }),
        h("input", { id: "shootout-calibration", type: "number", step: "0.1", placeholder: "default", "aria-describedby": "calibration-hint" }),
        h("p", { id: "calibration-hint", class: "muted", text: "Your interface's level for a full-scale sine. Amps captured with a stated input level hear your DI at the level the real amp heard; leave empty for the default." }),
      ),
      h("div", { class: "field" }, h("label", { for: "shootout-video", text: "Make a video" }), h("input", { id: "shootout-video", type: "checkbox", checked: true })),
      submitButton,
    ),
  );
  renderSources();
  renderChains();
  renderDiOptions();
  loadAssets().catch((err) => notify(`Could not list your files: ${describe(err)}`));
  void renderLibraryOfShootouts();
  void openFromLocation();
}
