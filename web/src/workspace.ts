// The signed-in workspace: DI and model uploads, the TONE3000 library, the chain builder
// and the render button. Picked sources and chains live in memory; uploaded assets are
// listed from AssetService, so they survive a reload.
import { create } from "@bufbuild/protobuf";
import { assets, jobs, library, shootouts } from "./api";
import { AssetKind } from "./gen/gts/v1/common_pb";
import { ArchitectureVersion, ToneFormat, type Tone } from "./gen/gts/v1/library_pb";
import {
  BlockSchema,
  type Block,
  type ModelSource,
  ModelSourceSchema,
} from "./gen/gts/v1/shootout_pb";
import { type Asset } from "./gen/gts/v1/upload_pb";
import { resumeWatchedJob, watchJob } from "./job";
import { uploadFile } from "./upload";
import { describe, formatBytes, h, notify, randomId } from "./util";

interface Source {
  key: string;
  label: string;
  kind: "nam" | "ir";
  source: ModelSource;
}

interface ChainDraft {
  id: string;
  name: string;
  namKey: string;
  irKey: string;
  inputGainDb: number;
  /** The chain's input high-pass corner in Hz; 0 turns it off. */
  highPassHz: number;
}

const state = {
  diAssets: [] as Asset[],
  sources: [] as Source[],
  chains: [] as ChainDraft[],
};

function assetSource(asset: Asset, kind: "nam" | "ir"): Source {
  return {
    key: `asset:${asset.id}`,
    label: `${asset.filename} (uploaded)`,
    kind,
    source: create(ModelSourceSchema, { source: { case: "assetId", value: asset.id } }),
  };
}

function addSource(source: Source): void {
  if (!state.sources.some((s) => s.key === source.key)) state.sources.push(source);
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
  const input = h("input", { id: `${id}-file`, type: "file", accept });
  const button = h("button", { id: `${id}-upload`, type: "button", text: "Upload" });
  const bar = h("progress", { id: `${id}-progress`, max: 1, value: 0, "aria-labelledby": `${id}-status` });
  const status = h("p", { id: `${id}-status`, "aria-live": "polite", class: "muted", text: "No file uploaded yet." });
  button.addEventListener("click", async () => {
    const file = input.files?.[0];
    if (!file) {
      notify("Choose a file first.");
      return;
    }
    button.disabled = true;
    status.textContent = `Preparing ${file.name}…`;
    try {
      const asset = await uploadFile(file, kind, ({ sent, total, resumed }) => {
        bar.value = total ? sent / total : 1;
        status.textContent = `${resumed ? "Resumed: " : ""}${formatBytes(sent)} of ${formatBytes(total)} uploaded (${Math.round((100 * sent) / Math.max(total, 1))}%)`;
      });
      status.textContent = `Uploaded ${asset.filename}.`;
      done(asset);
    } catch (err) {
      status.textContent = `Upload failed: ${describe(err)}. Choose the same file and press Upload to resume.`;
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
      // TONE3000 lists one architecture at a time (A1 unless asked); IR tones list all.
      const architectures = isIr
        ? [ArchitectureVersion.UNSPECIFIED]
        : [
            ...(tone.a1ModelsCount > 0n || tone.a2ModelsCount === 0n ? [ArchitectureVersion.A1] : []),
            ...(tone.a2ModelsCount > 0n ? [ArchitectureVersion.A2] : []),
          ];
      const pages = await Promise.all(
        architectures.map((architectureVersion) =>
          library.listModels({ toneId: tone.id, architectureVersion, page: { page: 1, pageSize: 50 } }),
        ),
      );
      const found = pages.flatMap((p) => p.models);
      if (found.length === 0) models.replaceChildren(h("li", { class: "muted", text: "No files in this tone." }));
      else models.replaceChildren(
        ...found.map((model) => {
          const pick = h("button", { type: "button", text: isIr ? "Use as cabinet IR" : "Use as amp model" });
          pick.addEventListener("click", () =>
            addSource({
              key: `t3k:${tone.id}:${model.id}`,
              label: `${tone.title} — ${model.name} (TONE3000)`,
              kind: isIr ? "ir" : "nam",
              source: create(ModelSourceSchema, {
                source: { case: "tone3000Model", value: { toneId: tone.id, modelId: model.id } },
              }),
            }),
          );
          const arch = model.architectureVersion === ArchitectureVersion.A2 ? " (A2)" : "";
          return h("li", {}, `${model.name}${arch} `, pick);
        }),
      );
    } catch (err) {
      notify(`Could not list the models: ${describe(err)}`);
    } finally {
      show.disabled = false;
    }
  });
  return h(
    "li",
    {},
    h("strong", { text: tone.title }),
    ` by ${tone.user?.username ?? "unknown"} · ${isIr ? "IR" : "NAM"} · ${tone.modelsCount} files `,
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

function sourceSelect(id: string, kind: "nam" | "ir", selected: string, optional: boolean): HTMLSelectElement {
  const select = h("select", { id });
  if (optional) select.append(h("option", { value: "", text: "(none)" }));
  for (const s of state.sources.filter((x) => x.kind === kind)) {
    select.append(h("option", { value: s.key, text: s.label, selected: s.key === selected }));
  }
  return select;
}

function renderChains(): void {
  const container = document.getElementById("chains");
  if (!container) return;
  container.replaceChildren(
    ...state.chains.map((chain, index) => {
      const n = index + 1;
      const name = h("input", { id: `chain-${n}-name`, type: "text", value: chain.name, required: true });
      name.addEventListener("input", () => (chain.name = name.value));
      const nam = sourceSelect(`chain-${n}-nam`, "nam", chain.namKey, false);
      if (!chain.namKey && nam.value) chain.namKey = nam.value;
      nam.addEventListener("change", () => (chain.namKey = nam.value));
      const ir = sourceSelect(`chain-${n}-ir`, "ir", chain.irKey, true);
      ir.addEventListener("change", () => (chain.irKey = ir.value));
      const gain = h("input", { id: `chain-${n}-gain`, type: "number", step: "0.5", value: chain.inputGainDb });
      gain.addEventListener("input", () => (chain.inputGainDb = Number(gain.value) || 0));
      const highPass = h("input", {
        id: `chain-${n}-high-pass`,
        type: "number",
        min: "0",
        max: "500",
        step: "1",
        value: chain.highPassHz,
      });
      highPass.addEventListener("input", () => (chain.highPassHz = highPass.value === "" ? 80 : Number(highPass.value)));
      const remove = h("button", { type: "button", text: `Remove chain ${n}` });
      remove.addEventListener("click", () => {
        state.chains = state.chains.filter((c) => c.id !== chain.id);
        renderChains();
      });
      return h(
        "fieldset",
        { class: "chain" },
        h("legend", { text: `Chain ${n}` }),
        h("div", { class: "field" }, h("label", { for: name.id, text: "Name" }), name),
        h("div", { class: "field" }, h("label", { for: nam.id, text: "Amp model (NAM)" }), nam),
        h("div", { class: "field" }, h("label", { for: gain.id, text: "Input gain (dB)" }), gain),
        h("div", { class: "field" }, h("label", { for: ir.id, text: "Cabinet IR" }), ir),
        h(
          "div",
          { class: "field" },
          h("label", { for: highPass.id, text: "Input high-pass (Hz, 0 = off)" }),
          highPass,
        ),
        remove,
      );
    }),
  );
}

function renderDiOptions(): void {
  const select = document.getElementById("di-select") as HTMLSelectElement | null;
  if (!select) return;
  const previous = select.value;
  select.replaceChildren(
    ...(state.diAssets.length
      ? state.diAssets.map((a) => h("option", { value: a.id, text: a.filename, selected: a.id === previous }))
      : [h("option", { value: "", text: "(upload a DI first)" })]),
  );
}

function chainBlocks(chain: ChainDraft): Block[] {
  const nam = state.sources.find((s) => s.key === chain.namKey);
  if (!nam) throw new Error(`${chain.name || "a chain"} needs an amp model`);
  const blocks: Block[] = [
    create(BlockSchema, {
      kind: { case: "namModel", value: { source: nam.source, inputGainDb: chain.inputGainDb } },
    }),
  ];
  const ir = state.sources.find((s) => s.key === chain.irKey);
  if (ir) blocks.push(create(BlockSchema, { kind: { case: "cabinetIr", value: { source: ir.source } } }));
  return blocks;
}

async function submit(button: HTMLButtonElement): Promise<void> {
  const name = (document.getElementById("shootout-name") as HTMLInputElement).value.trim();
  const di = (document.getElementById("di-select") as HTMLSelectElement).value;
  const video = (document.getElementById("shootout-video") as HTMLInputElement).checked;
  if (!name) return notify("Give the shootout a name.");
  if (!di) return notify("Upload or choose a DI recording first.");
  if (state.chains.length < 2) return notify("Add at least two chains to compare.");
  button.disabled = true;
  try {
    const chains = state.chains.map((c, i) => ({
      displayName: c.name || `Chain ${i + 1}`,
      blocks: chainBlocks(c),
      inputHighPassHz: c.highPassHz,
    }));
    const { shootout } = await shootouts.createShootout({
      shootout: {
        name,
        diTracks: [{ assetId: di, label: "DI" }],
        chains,
        outputOptions: { videoEnabled: video },
      },
    });
    if (!shootout) throw new Error("CreateShootout returned no shootout");
    const { job } = await jobs.submitJob({ shootoutId: shootout.id, idempotencyKey: randomId() });
    if (!job) throw new Error("SubmitJob returned no job");
    watchJob(job.id, "");
  } catch (err) {
    notify(`Could not submit: ${describe(err)}`);
  } finally {
    button.disabled = false;
  }
}

export function renderWorkspace(app: HTMLElement): void {
  if (state.chains.length === 0) {
    state.chains = [1, 2].map((n) => ({ id: randomId(), name: `Chain ${n}`, namKey: "", irKey: "", inputGainDb: 0, highPassHz: 80 }));
  }
  const addChain = h("button", { id: "add-chain", type: "button", text: "Add a chain" });
  addChain.addEventListener("click", () => {
    state.chains.push({ id: randomId(), name: `Chain ${state.chains.length + 1}`, namKey: "", irKey: "", inputGainDb: 0, highPassHz: 80 });
    renderChains();
  });
  const submitButton = h("button", { id: "submit-shootout", type: "button", text: "Render the shootout" });
  submitButton.addEventListener("click", () => void submit(submitButton));

  app.replaceChildren(
    h(
      "section",
      { "aria-labelledby": "di-title" },
      h("h2", { id: "di-title", text: "1. Your DI recording" }),
      uploadForm("di", "Upload a DI (WAV, FLAC, MP3, AIFF, OGG)", "audio/*,.wav,.flac,.mp3,.aiff,.aif,.ogg", AssetKind.DI_TRACK, (a) => {
        state.diAssets.unshift(a);
        renderDiOptions();
        const select = document.getElementById("di-select") as HTMLSelectElement;
        select.value = a.id;
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
      h("div", { class: "field" }, h("label", { for: "shootout-video", text: "Make a video" }), h("input", { id: "shootout-video", type: "checkbox", checked: true })),
      submitButton,
    ),
    h("section", { id: "job", "aria-labelledby": "job-title", hidden: true }),
  );
  renderSources();
  renderChains();
  renderDiOptions();
  loadAssets().catch((err) => notify(`Could not list your files: ${describe(err)}`));
  resumeWatchedJob();
}
