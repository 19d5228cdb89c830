// The console, end to end in a real Chromium (Debian's, driven by playwright-core; no
// browser download): sign in through the fake TONE3000, have an expiring access token
// refreshed, search the library and pick a model from it, upload a DI (interrupted after
// its first chunk, then resumed), two amp models and a cabinet IR with the upload forms,
// build a two-chain shootout (an uploaded model and the library one), submit it, watch
// the progress reach 100% (reloading the page half-way, which must resume the stream),
// play the A/B audio with the current chain highlighted, and check the spectrum plot,
// the metrics and the video link. A screenshot is kept in tests/browser/artifacts/.
//
// Usage: node console.spec.mjs <console URL> <directory with di.wav, amp-a.nam, amp-b.nam, cab.wav>
// Environment: GTS_CHROMIUM (default /usr/bin/chromium), GTS_BROWSER_TIMEOUT_MS (default 180000).
// Exit status 0 when every step passed; otherwise 1 with the failing step on stderr.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [url, files] = process.argv.slice(2);
if (!url || !files) {
  console.error("usage: node console.spec.mjs <console URL> <fixtures dir>");
  process.exit(2);
}
const executablePath = process.env.GTS_CHROMIUM || "/usr/bin/chromium";
const timeout = Number(process.env.GTS_BROWSER_TIMEOUT_MS || 180_000);
const artifacts = join(dirname(fileURLToPath(import.meta.url)), "artifacts");
mkdirSync(artifacts, { recursive: true });

let step = "launch Chromium";
const log = (message) => console.log(`[console.spec] ${message}`);
const expect = (condition, message) => {
  if (!condition) throw new Error(message);
};

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
  ],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
page.setDefaultTimeout(30_000);
page.on("console", (m) => {
  if (m.type() === "error" || m.type() === "warning") log(`browser ${m.type()}: ${m.text()}`);
});
page.on("pageerror", (e) => log(`page error: ${e.message}`));
page.on("response", (r) => {
  if (r.status() >= 400) log(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
});

async function upload(id, file) {
  await page.setInputFiles(`#${id}-file`, join(files, file));
  await page.click(`#${id}-upload`);
  await page.waitForFunction(
    (id) => {
      const text = document.getElementById(`${id}-status`)?.textContent ?? "";
      if (text.startsWith("Upload failed")) throw new Error(text);
      return text.startsWith("Uploaded");
    },
    id,
  );
  const value = await page.$eval(`#${id}-progress`, (el) => el.value);
  expect(value === 1, `the ${id} progress bar ended at ${value}, not 1`);
  log(`uploaded ${file}`);
}

let failed = false;
try {
  step = "open the console";
  await page.goto(url);
  await page.waitForSelector("#sign-in");

  step = "sign in with TONE3000 (the fake approves and redirects to /auth/callback)";
  await page.click("#sign-in");
  await page.waitForSelector("#signed-in-as", { timeout: 30_000 });
  expect(new URL(page.url()).pathname === "/", `after sign-in the page is ${page.url()}`);
  log(`signed in: ${await page.textContent("#signed-in-as")}`);

  step = "an expiring access token is refreshed through AuthService.Refresh";
  const before = await page.evaluate(() => {
    const session = JSON.parse(sessionStorage.getItem("gts.session"));
    session.accessExpiresAt = Date.now(); // as if it were about to expire
    sessionStorage.setItem("gts.session", JSON.stringify(session));
    return session;
  });
  await page.reload(); // the workspace lists the user's files at once, which refreshes first
  await page.waitForFunction((old) => {
    const session = JSON.parse(sessionStorage.getItem("gts.session") ?? "null");
    return session && session.refreshToken !== old && session.accessExpiresAt > Date.now() + 60_000;
  }, before.refreshToken);
  await page.waitForSelector("#signed-in-as");

  step = "search the TONE3000 library";
  await page.click("#library-search");
  await page.waitForSelector("#library-results button[data-tone-id]");
  log(`library: ${await page.$$eval("#library-results > li", (items) => items.length)} tones`);
  step = "pick an amp model from the library";
  await page
    .locator("#library-results > li", { hasText: "JCM800" })
    .locator("button[data-tone-id]", { hasText: "Show models" })
    .click();
  await page.locator("#library-results button", { hasText: "Use as amp model" }).first().click();
  await page.locator("#picked-sources li", { hasText: "(TONE3000)" }).first().waitFor();

  step = "upload the DI; the connection drops after its first chunk; the upload resumes";
  let putChunks = 0;
  let dropped = false;
  await page.route("**/gts.v1.UploadService/PutChunk", async (route) => {
    putChunks += 1;
    if (putChunks === 2 && !dropped) {
      dropped = true;
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await page.setInputFiles("#di-file", join(files, "di.wav"));
  await page.click("#di-upload");
  await page.waitForFunction(() =>
    (document.getElementById("di-status")?.textContent ?? "").startsWith("Upload failed"),
  );
  const sentBeforeDrop = putChunks;
  await upload("di", "di.wav");
  expect(dropped, "the DI was small enough for one chunk: nothing was interrupted");
  expect(
    putChunks - sentBeforeDrop === 1,
    `resuming sent ${putChunks - sentBeforeDrop} chunks; only the missing one was expected`,
  );
  await page.unroute("**/gts.v1.UploadService/PutChunk");

  step = "upload two amp models and a cabinet IR";
  await upload("nam", "amp-a.nam");
  await upload("nam", "amp-b.nam");
  await upload("ir", "cab.wav");

  step = "build a two-chain shootout";
  await page.fill("#shootout-name", "Browser test shootout");
  await page.fill("#chain-1-name", "Amp A");
  await page.fill("#chain-2-name", "Library amp");
  await page.selectOption("#chain-1-nam", { label: "amp-a.nam (uploaded)" });
  const libraryModel = await page.$eval("#chain-2-nam", (select) =>
    [...select.options].find((o) => o.value.startsWith("t3k:"))?.value,
  );
  expect(libraryModel, "the library model is not offered in the chain");
  await page.selectOption("#chain-2-nam", libraryModel);
  await page.selectOption("#chain-1-ir", { label: "cab.wav (uploaded)" });
  await page.selectOption("#chain-2-ir", { label: "cab.wav (uploaded)" });
  await page.selectOption("#di-select", { label: "di.wav" });
  await page.check("#shootout-video");

  step = "submit";
  await page.click("#submit-shootout");
  await page.waitForSelector("#job-progress");
  const watched = await page.waitForFunction(() => {
    const raw = localStorage.getItem("gts.job");
    return raw && JSON.parse(raw).lastEventId ? JSON.parse(raw) : null;
  });
  const { jobId, lastEventId } = await watched.jsonValue();
  log(`submitted job ${jobId}; first event ${lastEventId}`);

  step = "reload while the job runs: the watch resumes from the saved event";
  await page.reload();
  await page.waitForSelector("#job-progress");
  expect(
    (await page.textContent("#job")).includes(jobId),
    "after the reload the console does not show the same job",
  );

  step = "see the progress reach 100%";
  await page.waitForFunction(
    () => {
      const status = document.getElementById("job-status")?.dataset.status;
      if (status === "FAILED" || status === "CANCELLED") {
        throw new Error(`the job ended ${status}: ${document.getElementById("job-status")?.textContent}`);
      }
      return status === "SUCCEEDED";
    },
    null,
    { timeout },
  );
  expect((await page.textContent("#job-percent")) === "100%", "the bar did not reach 100%");
  expect((await page.$eval("#job-progress", (el) => el.value)) === 1, "the progress value is not 1");
  log("the job succeeded; progress 100%");

  step = "play the A/B comparison";
  await page.waitForSelector("#ab-audio");
  await page.$eval("#ab-audio", (audio) => audio.play());
  await page.waitForFunction(
    () => {
      const audio = document.getElementById("ab-audio");
      if (audio.error) throw new Error(`the audio failed: code ${audio.error.code}`);
      return audio.readyState >= 2 && audio.currentTime > 0.2;
    },
    null,
    { timeout: 30_000 },
  );
  log(`audio playing at ${await page.$eval("#ab-audio", (a) => a.currentTime.toFixed(2))} s`);
  await page.waitForSelector("#cues li.current");
  log(`highlighted: ${await page.textContent("#cues li.current")}`);

  step = "results: spectrum plot and metrics";
  await page.waitForSelector("#metrics tbody tr");
  const plotLoaded = await page.$eval("#spectrum-plot", (img) =>
    img.complete ? img.naturalWidth > 0 : new Promise((r) => (img.onload = () => r(img.naturalWidth > 0))),
  );
  expect(plotLoaded, "the spectrum plot did not load");

  step = "download the video";
  const href = await page.$eval("#video-download", (a) => a.href);
  const video = await page.evaluate(async (href) => {
    const response = await fetch(href, { headers: { range: "bytes=0-1023" } });
    return { status: response.status, type: response.headers.get("content-type"), size: (await response.arrayBuffer()).byteLength };
  }, href);
  expect(
    (video.status === 206 || video.status === 200) && video.type?.startsWith("video/mp4") && video.size > 0,
    `the video link answered ${JSON.stringify(video)}`,
  );
  log(`video link: ${video.status} ${video.type}`);
  log("all steps passed");
} catch (error) {
  failed = true;
  console.error(`[console.spec] FAILED at "${step}": ${error?.message ?? error}`);
  const alert = await page.textContent("#notice").catch(() => "");
  if (alert) console.error(`[console.spec] the page's alert: ${alert}`);
  if (process.env.GTS_BROWSER_DEBUG) console.error(await page.innerHTML("#app").catch(() => ""));
} finally {
  const shot = join(artifacts, failed ? "console-failure.png" : "console.png");
  await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
  log(`screenshot: ${shot}`);
  await browser.close();
}
process.exit(failed ? 1 : 0);
