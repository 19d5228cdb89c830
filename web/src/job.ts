// Live progress and results of a job. WatchJob is a server stream (grpc-web over fetch):
// the last event id is saved in localStorage, so a reload (or a dropped stream) resumes
// with `after_event_id` instead of replaying. When the job succeeds its result opens in
// the listening room (room.ts) with the owner's share-link controls.
import { ConnectError, Code } from "@connectrpc/connect";
import { jobs, shootouts } from "./api";
import { gearOf } from "./gear";
import { type Artifact, type Job, type JobProgress, JobStatus, RenderStage } from "./gen/gts/v1/job_pb";
import type { Shootout } from "./gen/gts/v1/shootout_pb";
import { renderRoom } from "./room";
import { describe, h, timestampMs } from "./util";

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
export function watchJob(jobId: string, afterEventId: string, title = ""): void {
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
  const heading = h("h2", { id: "job-title", text: title ? `Rendering “${title}”` : "Your render" });
  const progressBox = h("div", { id: "job-live", class: "live" }, h("div", { class: "field" }, label, " ", percent), bar, status, stage, cancel);
  const el = section();
  el.dataset.jobId = jobId;
  el.replaceChildren(heading, progressBox, results);
  if (!title) {
    void jobs
      .getJob({ jobId })
      .then(({ job }) => (job ? shootouts.getShootout({ shootoutId: job.shootoutId }) : null))
      .then((r) => {
        if (r?.shootout) heading.textContent = `Rendering “${r.shootout.name}”`;
      })
      .catch(() => {});
  }

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
        if (finalStatus === JobStatus.SUCCEEDED) {
          progressBox.hidden = true;
          heading.hidden = true;
          await showResults(jobId, results);
        }
        return;
      }
      // The stream ended or broke before the job did: reconnect from the last event.
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** failures, 10_000)));
    }
  };
  void run();
}

const urls = new Map<string, Promise<string>>();

/** A signed download URL of an artifact (asked once per page; they last minutes). */
function artifactUrl(jobId: string, artifact: Artifact): Promise<string> {
  let hit = urls.get(artifact.id);
  if (!hit) {
    hit = jobs.getArtifactUrl({ jobId, artifactId: artifact.id }).then(({ url }) => new URL(url, window.location.origin).toString());
    urls.set(artifact.id, hit);
    hit.catch(() => urls.delete(artifact.id));
  }
  return hit;
}

/** Loads a succeeded job's result into the listening room. */
export async function showResults(jobId: string, container: HTMLElement): Promise<void> {
  container.replaceChildren(h("p", { text: "Loading the results…" }));
  try {
    const [{ job }, { artifacts }] = await Promise.all([jobs.getJob({ jobId }), jobs.listArtifacts({ jobId })]);
    if (!job) throw new Error("the render is gone");
    let shootout: Shootout | undefined;
    try {
      shootout = (await shootouts.getShootout({ shootoutId: job.shootoutId })).shootout;
    } catch {
      // Deleted since: the result still plays, with what the job recorded.
    }
    const chains = await Promise.all(
      job.chainResults.map(async (result) => {
        const chain = shootout?.chains.find((c) => c.id === result.chainId);
        return {
          name: result.displayName || chain?.displayName || `Chain ${result.chainIndex + 1}`,
          gear: chain ? await gearOf(chain.blocks, chain.inputHighPassHz, true) : [],
          result,
        };
      }),
    );
    renderRoom(container, {
      resultKey: job.id,
      title: shootout?.name ?? "Your result",
      subtitle: subtitle(job),
      chains,
      artifacts,
      url: (a) => artifactUrl(jobId, a),
      actions: shareControls(job.id),
    });
  } catch (err) {
    container.replaceChildren(h("p", { role: "alert", text: `Could not load the results: ${describe(err)}` }));
  }
}

function subtitle(job: Job): string {
  const when = timestampMs(job.finishedAt);
  const date = when ? new Date(when).toLocaleString() : "";
  return `${job.chainResults.length} chains on the same DI, matched in loudness${date ? ` · rendered ${date}` : ""}`;
}

// --- share links ----------------------------------------------------------------------------

function shareKey(jobId: string): string {
  return `gts.share.${jobId}`;
}

/** The owner's controls: make a share link, copy it, turn it off. */
function shareControls(jobId: string): HTMLElement {
  const box = h("div", { id: "share", class: "share", role: "group", "aria-label": "Share this result" });
  const render = () => {
    const token = localStorage.getItem(shareKey(jobId));
    if (!token) {
      const make = h("button", { id: "share-create", type: "button", text: "Share a link" });
      make.addEventListener("click", async () => {
        make.disabled = true;
        try {
          const shared = await jobs.shareJob({ jobId });
          localStorage.setItem(shareKey(jobId), shared.token);
          render();
        } catch (err) {
          make.disabled = false;
          box.append(h("p", { role: "alert", text: `Could not make a link: ${describe(err)}` }));
        }
      });
      box.replaceChildren(make, h("span", { class: "muted", text: " Anyone with the link can listen to this result (nothing else of yours) until you turn it off." }));
      return;
    }
    const link = `${window.location.origin}/s/${token}`;
    const field = h("input", { id: "share-link", type: "text", readonly: true, value: link, "aria-label": "Share link" });
    const copy = h("button", { id: "share-copy", type: "button", text: "Copy" });
    copy.addEventListener("click", async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(link);
        copy.textContent = "Copied";
      } catch {
        copy.textContent = "Select and copy";
      }
    });
    const revoke = h("button", { id: "share-revoke", type: "button", text: "Turn the link off" });
    revoke.addEventListener("click", async () => {
      revoke.disabled = true;
      try {
        await jobs.unshareJob({ jobId });
        localStorage.removeItem(shareKey(jobId));
        render();
      } catch (err) {
        revoke.disabled = false;
        box.append(h("p", { role: "alert", text: `Could not turn the link off: ${describe(err)}` }));
      }
    });
    box.replaceChildren(h("span", { text: "Shared: " }), field, " ", copy, " ", revoke);
  };
  render();
  return box;
}
