// Live progress and results of a job. WatchJob is a server stream (grpc-web over fetch):
// the last event id is saved in localStorage, so a reload (or a dropped stream) resumes
// with `after_event_id` instead of replaying. When the job succeeds the results are
// shown: the A/B audio with the playing chain highlighted from the cue list, the
// spectrum plot, the metrics table and the video download.
import { ConnectError, Code } from "@connectrpc/connect";
import { jobs } from "./api";
import {
  type Artifact,
  ArtifactKind,
  type Job,
  type JobProgress,
  JobStatus,
  RenderStage,
} from "./gen/gts/v1/job_pb";
import { describe, h } from "./util";

const KEY = "gts.job";

interface Watched {
  jobId: string;
  lastEventId: string;
}

const STAGES: Record<RenderStage, string> = {
  [RenderStage.UNSPECIFIED]: "Waiting",
  [RenderStage.FETCHING]: "Fetching models and the DI",
  [RenderStage.DECODING]: "Decoding audio",
  [RenderStage.RENDERING_CHAIN]: "Rendering chain",
  [RenderStage.LEVELLING]: "Levelling loudness",
  [RenderStage.MEASURING]: "Measuring",
  [RenderStage.ASSEMBLING]: "Assembling the A/B comparison",
  [RenderStage.ENCODING]: "Encoding audio",
  [RenderStage.VIDEO]: "Making the video",
  [RenderStage.UPLOADING]: "Storing the results",
};

const STATUS: Record<JobStatus, string> = {
  [JobStatus.UNSPECIFIED]: "Unknown",
  [JobStatus.QUEUED]: "Queued",
  [JobStatus.RUNNING]: "Running",
  [JobStatus.SUCCEEDED]: "Done",
  [JobStatus.FAILED]: "Failed",
  [JobStatus.CANCELLED]: "Cancelled",
};

function terminal(status: JobStatus): boolean {
  return status === JobStatus.SUCCEEDED || status === JobStatus.FAILED || status === JobStatus.CANCELLED;
}

function save(watched: Watched | null): void {
  if (watched) localStorage.setItem(KEY, JSON.stringify(watched));
  else localStorage.removeItem(KEY);
}

let controller: AbortController | null = null;

/** Resumes watching the job saved before a reload, if any. */
export function resumeWatchedJob(): void {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return;
    const watched = JSON.parse(raw) as Watched;
    if (watched.jobId) watchJob(watched.jobId, watched.lastEventId ?? "");
  } catch {
    save(null);
  }
}

function section(): HTMLElement {
  const el = document.getElementById("job");
  if (!el) throw new Error("missing #job");
  el.hidden = false;
  return el;
}

/** Shows the job's progress and follows its events until it ends. */
export function watchJob(jobId: string, afterEventId: string): void {
  controller?.abort();
  const abort = new AbortController();
  controller = abort;
  save({ jobId, lastEventId: afterEventId });

  const bar = h("progress", { id: "job-progress", max: 1, value: 0, "aria-labelledby": "job-progress-label" });
  const label = h("span", { id: "job-progress-label", text: "Progress" });
  const percent = h("span", { id: "job-percent", text: "0%" });
  const stage = h("p", { id: "job-stage", "aria-live": "polite", text: "Waiting for the worker…" });
  const status = h("p", { id: "job-status", "aria-live": "polite", text: "Queued" });
  const results = h("div", { id: "results" });
  const cancel = h("button", { id: "job-cancel", type: "button", text: "Cancel the render" });
  cancel.addEventListener("click", async () => {
    try {
      await jobs.cancelJob({ jobId });
    } catch (err) {
      stage.textContent = `Could not cancel: ${describe(err)}`;
    }
  });
  section().replaceChildren(
    h("h2", { id: "job-title", text: "5. Progress and results" }),
    h("p", { class: "muted", text: `Job ${jobId}` }),
    h("div", { class: "field" }, label, " ", percent),
    bar,
    status,
    stage,
    cancel,
    results,
  );

  const showProgress = (p: JobProgress | undefined) => {
    if (!p) return;
    bar.value = p.overallFraction;
    percent.textContent = `${Math.round(p.overallFraction * 100)}%`;
    const chain =
      p.stage === RenderStage.RENDERING_CHAIN && p.chainIndex !== undefined
        ? ` ${p.chainIndex + 1} of ${p.chainCount}`
        : "";
    stage.textContent = `${STAGES[p.stage] ?? "Working"}${chain}`;
  };
  const showStatus = (s: JobStatus, error?: string) => {
    status.textContent = `${STATUS[s]}${error ? `: ${error}` : ""}`;
    status.dataset.status = JobStatus[s];
    cancel.hidden = terminal(s);
    if (s === JobStatus.SUCCEEDED) {
      bar.value = 1;
      percent.textContent = "100%";
      stage.textContent = "Finished";
    }
  };

  let lastEventId = afterEventId;
  const run = async () => {
    let failures = 0;
    for (;;) {
      let finalStatus: JobStatus | null = null;
      try {
        for await (const response of jobs.watchJob({ jobId, afterEventId: lastEventId }, { signal: abort.signal })) {
          failures = 0;
          const event = response.event;
          if (!event) continue;
          if (event.event.case !== "heartbeat" && event.eventId) {
            lastEventId = event.eventId;
            save({ jobId, lastEventId });
          }
          switch (event.event.case) {
            case "snapshot": {
              const job = event.event.value;
              showProgress(job.progress);
              showStatus(job.status, job.errorMessage);
              if (terminal(job.status)) finalStatus = job.status;
              break;
            }
            case "progress":
              showProgress(event.event.value);
              break;
            case "statusChange":
              showStatus(event.event.value.toStatus, event.event.value.errorMessage);
              if (terminal(event.event.value.toStatus)) finalStatus = event.event.value.toStatus;
              break;
            default:
              break;
          }
          if (finalStatus !== null) break;
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        if (err instanceof ConnectError && (err.code === Code.NotFound || err.code === Code.PermissionDenied)) {
          stage.textContent = `This job cannot be watched: ${describe(err)}`;
          save(null);
          return;
        }
        failures += 1;
        stage.textContent = `Connection lost (${describe(err)}); reconnecting…`;
      }
      if (abort.signal.aborted) return;
      if (finalStatus !== null) {
        if (finalStatus === JobStatus.SUCCEEDED) await showResults(jobId, results);
        return;
      }
      // The stream ended or broke before the job did: reconnect from the last event.
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** failures, 10_000)));
    }
  };
  void run();
}

interface Cue {
  chain: number;
  start_ms: number;
  end_ms: number;
}

async function artifactUrl(jobId: string, artifact: Artifact): Promise<string> {
  const { url } = await jobs.getArtifactUrl({ jobId, artifactId: artifact.id });
  return new URL(url, window.location.origin).toString();
}

async function showResults(jobId: string, container: HTMLElement): Promise<void> {
  container.replaceChildren(h("p", { text: "Loading the results…" }));
  try {
    const [{ job }, { artifacts }] = await Promise.all([jobs.getJob({ jobId }), jobs.listArtifacts({ jobId })]);
    const find = (kind: ArtifactKind) => artifacts.find((a) => a.kind === kind && a.chainIndex === undefined);
    const parts: HTMLElement[] = [];
    const ab = find(ArtifactKind.AB_FLAC);
    const cueArtifact = find(ArtifactKind.CUE_LIST);
    if (ab) parts.push(await abPlayer(jobId, ab, cueArtifact, job));
    const plot = find(ArtifactKind.SPECTRUM_PLOT);
    if (plot) {
      parts.push(
        h("h3", { text: "Spectrum" }),
        h("img", { id: "spectrum-plot", class: "plot", src: await artifactUrl(jobId, plot), alt: "Spectrum of every chain, overlaid" }),
      );
    }
    if (job) parts.push(metricsTable(job));
    const video = find(ArtifactKind.VIDEO);
    if (video) {
      parts.push(
        h("p", {}, h("a", { id: "video-download", href: await artifactUrl(jobId, video), download: video.filename, text: `Download the video (${video.filename})` })),
      );
    }
    container.replaceChildren(...parts);
  } catch (err) {
    container.replaceChildren(h("p", { role: "alert", text: `Could not load the results: ${describe(err)}` }));
  }
}

async function abPlayer(jobId: string, ab: Artifact, cueArtifact: Artifact | undefined, job: Job | undefined): Promise<HTMLElement> {
  const audio = h("audio", { id: "ab-audio", controls: true, preload: "auto", src: await artifactUrl(jobId, ab) });
  const names = job?.chainResults.map((r) => r.displayName) ?? [];
  const list = h("ol", { id: "cues" });
  const now = h("p", { id: "now-playing", "aria-live": "polite", text: "Press play to compare." });
  let cues: Cue[] = [];
  if (cueArtifact) {
    try {
      const response = await fetch(await artifactUrl(jobId, cueArtifact));
      const body: unknown = await response.json();
      const raw = Array.isArray(body) ? body : ((body as { cues?: unknown[] }).cues ?? []);
      cues = (raw as Cue[]).filter((c) => typeof c.start_ms === "number" && typeof c.end_ms === "number");
    } catch {
      now.textContent = "The cue list could not be loaded; the audio still plays.";
    }
  }
  const items = cues.map((cue, i) => {
    const name = names[cue.chain] ?? `Chain ${cue.chain + 1}`;
    const item = h("li", { "data-chain": cue.chain }, `${name} — ${(cue.start_ms / 1000).toFixed(1)} s `);
    const jump = h("button", { type: "button", text: "Play from here", "aria-label": `Play segment ${i + 1}, ${name}` });
    jump.addEventListener("click", () => {
      audio.currentTime = cue.start_ms / 1000;
      void audio.play();
    });
    item.append(jump);
    return item;
  });
  list.replaceChildren(...items);
  let current = -1;
  audio.addEventListener("timeupdate", () => {
    const ms = audio.currentTime * 1000;
    const index = cues.findIndex((c) => ms >= c.start_ms && ms < c.end_ms);
    if (index === current) return;
    items[current]?.classList.remove("current");
    items[current]?.removeAttribute("aria-current");
    current = index;
    if (index >= 0) {
      items[index].classList.add("current");
      items[index].setAttribute("aria-current", "true");
      now.textContent = `Now playing: ${names[cues[index].chain] ?? `Chain ${cues[index].chain + 1}`}`;
    }
  });
  return h("div", {}, h("h3", { text: "A/B comparison" }), audio, now, list);
}

const METRICS: [string, (m: NonNullable<Job["chainResults"][number]["metrics"]>) => number, number][] = [
  ["Integrated loudness (LUFS)", (m) => m.integratedLufs, 1],
  ["True peak (dBTP)", (m) => m.truePeakDbtp, 1],
  ["RMS (dBFS)", (m) => m.rmsDbfs, 1],
  ["Crest factor (dB)", (m) => m.crestFactorDb, 1],
  ["Loudness range (LU)", (m) => m.loudnessRangeLu, 1],
  ["Spectral centroid (Hz)", (m) => m.spectralCentroidHz, 0],
  ["Low / mid / high energy", (m) => m.lowBandEnergyRatio, 2],
];

function metricsTable(job: Job): HTMLElement {
  const results = job.chainResults;
  const head = h("tr", {}, h("th", { scope: "col", text: "Metric" }), ...results.map((r) => h("th", { scope: "col", text: r.displayName })));
  const rows = METRICS.map(([name, get, digits]) =>
    h(
      "tr",
      {},
      h("th", { scope: "row", text: name }),
      ...results.map((r) => {
        const m = r.metrics;
        if (!m) return h("td", { text: "–" });
        if (name.startsWith("Low / mid")) {
          return h("td", { text: `${m.lowBandEnergyRatio.toFixed(2)} / ${m.midBandEnergyRatio.toFixed(2)} / ${m.highBandEnergyRatio.toFixed(2)}` });
        }
        return h("td", { text: get(m).toFixed(digits) });
      }),
    ),
  );
  return h(
    "div",
    {},
    h("h3", { text: "Metrics" }),
    h("table", { id: "metrics" }, h("caption", { class: "muted", text: "Measured after loudness matching" }), h("thead", {}, head), h("tbody", {}, ...rows)),
  );
}
