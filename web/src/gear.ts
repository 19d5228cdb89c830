// What a chain's blocks are, in a guitarist's words: the model or IR (tone title, model
// name, size and architecture, maker, capture author) and every effect with its settings.
// Library facts come from LibraryService and uploaded files' facts from AssetService when
// the viewer may read them (the owner); a shared result shows what its blocks say.
import { assets, library } from "./api";
import { NamArchitecture } from "./gen/gts/v1/upload_pb";
import { ModelSize } from "./gen/gts/v1/common_pb";
import { ArchitectureVersion, type Model, type Tone } from "./gen/gts/v1/library_pb";
import { type Block, DelayPreset, EqBandType, type ModelSource, ReverbPreset } from "./gen/gts/v1/shootout_pb";
import type { GearLine } from "./room";

export const SIZE: Record<ModelSize, string> = {
  [ModelSize.UNSPECIFIED]: "",
  [ModelSize.STANDARD]: "standard",
  [ModelSize.LITE]: "lite",
  [ModelSize.FEATHER]: "feather",
  [ModelSize.NANO]: "nano",
  [ModelSize.CUSTOM]: "custom size",
};

export const ARCHITECTURE: Record<ArchitectureVersion, string> = {
  [ArchitectureVersion.UNSPECIFIED]: "",
  [ArchitectureVersion.A1]: "WaveNet A1",
  [ArchitectureVersion.A2]: "WaveNet A2",
  [ArchitectureVersion.CUSTOM]: "custom architecture (e.g. LSTM)",
};

const NAM_ARCHITECTURE: Record<number, string> = {
  [NamArchitecture.UNSPECIFIED]: "",
  [NamArchitecture.WAVENET]: "WaveNet",
  [NamArchitecture.LSTM]: "LSTM",
  [NamArchitecture.CONVNET]: "ConvNet",
  [NamArchitecture.LINEAR]: "Linear",
};

export const EQ_SHAPE: Record<EqBandType, string> = {
  [EqBandType.UNSPECIFIED]: "EQ",
  [EqBandType.LOW_SHELF]: "Low shelf",
  [EqBandType.HIGH_SHELF]: "High shelf",
  [EqBandType.PEAKING]: "Peaking",
  [EqBandType.LOW_PASS]: "Low-pass",
  [EqBandType.HIGH_PASS]: "High-pass",
};

export const DELAY_PRESET: Record<DelayPreset, string> = {
  [DelayPreset.UNSPECIFIED]: "Custom",
  [DelayPreset.SLAPBACK]: "Slapback",
  [DelayPreset.QUARTER]: "Quarter note",
  [DelayPreset.CUSTOM]: "Custom",
};

export const REVERB_PRESET: Record<ReverbPreset, string> = {
  [ReverbPreset.UNSPECIFIED]: "Custom",
  [ReverbPreset.ROOM]: "Room",
  [ReverbPreset.HALL]: "Hall",
  [ReverbPreset.SPRING]: "Spring",
  [ReverbPreset.CUSTOM]: "Custom",
};

const tones = new Map<bigint, Promise<Tone | undefined>>();
const models = new Map<string, Promise<Model | undefined>>();

function toneInfo(toneId: bigint): Promise<Tone | undefined> {
  let hit = tones.get(toneId);
  if (!hit) {
    hit = library.getTone({ toneId }).then((r) => r.tone, () => undefined);
    tones.set(toneId, hit);
  }
  return hit;
}

/** Every architecture a tone's models may have, so none is left out of a listing. */
/** "calibrated at +12.0 dBu", or why the model cannot be calibrated; "" when unknown. */
export function calibrationText(inputLevelDbu: number | undefined, usable: boolean | undefined): string {
  if (inputLevelDbu === undefined) return "no input calibration (RMS level)";
  const dbu = `${inputLevelDbu >= 0 ? "+" : ""}${inputLevelDbu.toFixed(1)} dBu`;
  return usable === false ? `states ${dbu}, implausible (RMS level)` : `calibrated at ${dbu}`;
}

export function architecturesOf(tone: Tone | undefined): ArchitectureVersion[] {
  if (!tone) return [ArchitectureVersion.A1, ArchitectureVersion.A2, ArchitectureVersion.CUSTOM];
  const out: ArchitectureVersion[] = [];
  if (tone.a1ModelsCount > 0n) out.push(ArchitectureVersion.A1);
  if (tone.a2ModelsCount > 0n) out.push(ArchitectureVersion.A2);
  if (tone.customModelsCount > 0n) out.push(ArchitectureVersion.CUSTOM);
  // No per-architecture counts (TONE3000 does not always send them): ask for all three.
  return out.length ? out : [ArchitectureVersion.A1, ArchitectureVersion.A2, ArchitectureVersion.CUSTOM];
}

function modelInfo(tone: Tone | undefined, toneId: bigint, modelId: bigint): Promise<Model | undefined> {
  const key = `${toneId}:${modelId}`;
  let hit = models.get(key);
  if (!hit) {
    hit = (async () => {
      for (const architectureVersion of architecturesOf(tone)) {
        try {
          const page = await library.listModels({ toneId, architectureVersion, page: { page: 1, pageSize: 100 } });
          const found = page.models.find((m) => m.id === modelId);
          if (found) return found;
        } catch {
          return undefined;
        }
      }
      return undefined;
    })();
    models.set(key, hit);
  }
  return hit;
}

async function sourceLine(kind: string, source: ModelSource | undefined, signedIn: boolean, extra: string[]): Promise<GearLine> {
  const s = source?.source;
  if (s?.case === "tone3000Model") {
    const { toneId, modelId } = s.value;
    if (signedIn) {
      const tone = await toneInfo(toneId);
      const model = await modelInfo(tone, toneId, modelId);
      const details = [
        tone?.title ? `from “${tone.title}”` : "",
        model ? [SIZE[model.size], ARCHITECTURE[model.architectureVersion]].filter(Boolean).join(", ") : "",
        model?.calibration && kind === "Amp" ? calibrationText(model.calibration.inputLevelDbu, model.calibration.usableForCalibration) : "",
        tone?.makes.length ? `by ${tone.makes.map((m) => m.name).join(", ")}` : "",
        tone?.user?.username ? `captured by ${tone.user.username}` : "",
        ...extra,
      ].filter(Boolean);
      return { kind, title: model?.name ?? tone?.title ?? `TONE3000 model ${modelId}`, details };
    }
    return { kind, title: `TONE3000 tone ${toneId}, model ${modelId}`, details: extra };
  }
  if (s?.case === "assetId" && signedIn) {
    try {
      const { asset } = await assets.getAsset({ assetId: s.value });
      if (asset) {
        const details: string[] = [`uploaded as ${asset.filename}`];
        if (asset.facts.case === "nam") {
          const f = asset.facts.value;
          details.push(
            ...[
              [SIZE[f.sizeClass], NAM_ARCHITECTURE[f.architecture]].filter(Boolean).join(" "),
              f.gearMake || f.gearModel ? `${f.gearMake} ${f.gearModel}`.trim() : "",
              f.modeledBy ? `captured by ${f.modeledBy}` : "",
              calibrationText(f.inputLevelDbu, undefined),
            ].filter(Boolean),
          );
          return { kind, title: f.name || asset.filename, details: [...details, ...extra] };
        }
        return { kind, title: asset.filename, details: extra };
      }
    } catch {
      // Deleted since: fall through.
    }
  }
  return { kind, title: "Uploaded file", details: extra };
}

function num(value: number | undefined, unit: string, digits = 0): string {
  return value === undefined ? "" : `${value.toFixed(digits)} ${unit}`.trim();
}

/** The gear list of a chain. `signedIn`: look library and asset facts up. */
export async function gearOf(blocks: Block[], inputHighPassHz: number | undefined, signedIn: boolean): Promise<GearLine[]> {
  const lines: GearLine[] = [];
  if (inputHighPassHz) lines.push({ kind: "Input", title: `High-pass at ${Math.round(inputHighPassHz)} Hz`, details: [] });
  for (const block of blocks) {
    const k = block.kind;
    switch (k.case) {
      case "namModel":
        lines.push(await sourceLine("Amp", k.value.source, signedIn, k.value.inputGainDb ? [`input ${k.value.inputGainDb > 0 ? "+" : ""}${k.value.inputGainDb} dB`] : []));
        break;
      case "cabinetIr":
        lines.push(await sourceLine("Cab IR", k.value.source, signedIn, k.value.mix !== undefined && k.value.mix < 1 ? [`mix ${Math.round(k.value.mix * 100)}%`] : []));
        break;
      case "highPass":
        lines.push({ kind: "Filter", title: `High-pass at ${Math.round(k.value.frequencyHz ?? 80)} Hz`, details: [] });
        break;
      case "eq":
        lines.push({ kind: "EQ", title: `${EQ_SHAPE[k.value.bandType]} at ${Math.round(k.value.frequencyHz)} Hz`, details: [k.value.bandType === EqBandType.LOW_PASS || k.value.bandType === EqBandType.HIGH_PASS ? "" : `${k.value.gainDb > 0 ? "+" : ""}${k.value.gainDb} dB`, k.value.q !== undefined ? `Q ${k.value.q}` : ""].filter(Boolean) });
        break;
      case "gain":
        lines.push({ kind: "Gain", title: `${k.value.gainDb > 0 ? "+" : ""}${k.value.gainDb} dB`, details: [] });
        break;
      case "delay":
        lines.push({ kind: "Delay", title: DELAY_PRESET[k.value.preset], details: [num(k.value.timeMs, "ms"), k.value.feedback !== undefined ? `feedback ${Math.round(k.value.feedback * 100)}%` : "", k.value.mix !== undefined ? `mix ${Math.round(k.value.mix * 100)}%` : ""].filter(Boolean) });
        break;
      case "reverb":
        lines.push({ kind: "Reverb", title: REVERB_PRESET[k.value.preset], details: [num(k.value.decaySeconds, "s", 1), k.value.mix !== undefined ? `mix ${Math.round(k.value.mix * 100)}%` : ""].filter(Boolean) });
        break;
      case "noiseGate":
        lines.push({ kind: "Gate", title: `Noise gate at ${k.value.thresholdDb} dB`, details: [num(k.value.releaseMs, "ms release")] .filter(Boolean) });
        break;
      default:
        break;
    }
  }
  return lines;
}
