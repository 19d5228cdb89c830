// The console, end to end in a real Chromium (Debian's, driven by playwright-core; no
// browser download): sign in through the fake TONE3000, have an expiring access token
// refreshed, search the library and pick a model from it (and list an LSTM tone's models),
// see a text file and a silent recording refused as DIs in plain words, upload a DI
// (interrupted after its first chunk, then resumed), two amp models and a cabinet IR,
// build a two-chain shootout with every block kind, submit it, reload while it renders
// (the workspace, its blocks and the live progress come back), then in the listening
// room: switch chains mid-playback with the playhead kept (read through the audio
// graph's test hook), loop a dragged region, blind mode (shuffled, the same order after a
// reload, a correct reveal), the plots, the A/B file and the video; finally share the
// result, open it without a session, find another result's artifacts unreachable with
// the token, revoke it and see the page and its artifact URLs refused. Screenshots of
// the results page (desktop and phone) go to tests/browser/artifacts/.
//
// Usage: node console.spec.mjs <console URL> <directory with di.wav, amp-a.nam, amp-b.nam, cab.wav, not-audio.wav, silent.wav>
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

/** Selects the option of `selector` whose text contains `text`. */
async function selectByText(selector, text) {
  const value = await page.$eval(
    selector,
    (select, text) => [...select.options].find((o) => o.textContent.includes(text))?.value,
    text,
  );
  if (!value) throw new Error(`${selector} offers no option with "${text}"`);
  await page.selectOption(selector, value);
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

  step = "a tone whose models are LSTM (a custom architecture) lists them";
  await page.fill("#library-query", "Deluxe");
  await page.click("#library-search");
  const deluxe = page.locator("#library-results > li", { hasText: "Deluxe" }).first();
  await deluxe.locator("button[data-tone-id]").click();
  await deluxe.locator("li", { hasText: "LSTM" }).first().waitFor();
  expect(!(await deluxe.textContent()).includes("No files in this tone"), "the LSTM tone shows no files");

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

  step = "build a two-chain shootout with every block kind";
  await page.fill("#shootout-name", "Browser test shootout");
  await page.fill("#chain-1-name", "Amp A");
  await page.fill("#chain-2-name", "Library amp");
  await selectByText("#chain-1-block-1-source", "amp-a.nam (uploaded)");
  const libraryModel = await page.$eval("#chain-2-block-1-source", (select) =>
    [...select.options].find((o) => o.value.startsWith("t3k:"))?.value,
  );
  expect(libraryModel, "the library model is not offered in the chain");
  await page.selectOption("#chain-2-block-1-source", libraryModel);
  await selectByText("#chain-1-block-2-source", "cab.wav (uploaded)");
  await selectByText("#chain-2-block-2-source", "cab.wav (uploaded)");
  const everyKind = ["namModel", "cabinetIr", "highPass", "eq", "gain", "delay", "reverb", "noiseGate"];
  for (const kind of everyKind.slice(2)) {
    await page.selectOption("#chain-1-add-kind", kind);
    await page.click("#chain-1-add-block");
  }
  // Settings of the added blocks (ids follow the block's position in the chain).
  await page.fill("#chain-1-block-3-frequency", "100");
  await page.selectOption("#chain-1-block-4-shape", { label: "High shelf" });
  await page.fill("#chain-1-block-4-gain", "-3");
  await page.fill("#chain-1-block-5-gain", "-2");
  await page.fill("#chain-1-block-7-mix", "15");
  await page.fill("#chain-1-block-8-threshold", "-75");
  const built = await page.$$eval("#chain-1 fieldset.block", (els) => els.map((e) => e.dataset.kind));
  expect(JSON.stringify(built) === JSON.stringify(everyKind), `chain 1 has blocks ${built}`);
  await page.selectOption("#di-select", { label: "di.wav" });
  await page.check("#shootout-video");
  // Calibration: the DI recorded at 0 dBFS = +14 dBu; the library chain forced to RMS.
  await page.fill("#shootout-calibration", "14");
  await page.selectOption("#chain-2-input-mode", "2");

  step = "submit";
  await page.click("#submit-shootout");
  await page.waitForSelector("#job-progress");
  const watched = await page.waitForFunction(() => {
    const raw = localStorage.getItem("gts.job");
    return raw && JSON.parse(raw).lastEventId ? JSON.parse(raw) : null;
  });
  const { jobId, lastEventId } = await watched.jsonValue();
  const path = new URL(page.url()).pathname;
  expect(path.endsWith(`/renders/${jobId}`), `after submitting the address is ${path}`);
  log(`submitted job ${jobId}; first event ${lastEventId}`);

  step = "reload while the job runs: the workspace comes back and the watch re-attaches";
  let watchCalls = 0;
  const countWatch = (r) => {
    if (r.url().endsWith("/gts.v1.JobService/WatchJob")) watchCalls += 1;
  };
  page.on("request", countWatch);
  await page.reload();
  await page.waitForSelector("#job-progress, #room");
  expect((await page.$eval("#job", (el) => el.dataset.jobId)) === jobId, "after the reload the console does not show the same render");
  await page.locator("#my-shootouts button[data-shootout-id]", { hasText: "Browser test shootout" }).waitFor();
  await page.waitForFunction(
    (n) => document.querySelectorAll("#chain-1 fieldset.block").length === n,
    everyKind.length,
  );
  const restored = await page.$$eval("#chain-1 fieldset.block", (els) => els.map((e) => e.dataset.kind));
  expect(
    JSON.stringify(restored) === JSON.stringify(everyKind),
    `the saved chain came back with blocks ${restored} (every kind was sent and stored?)`,
  );
  expect((await page.inputValue("#chain-1-block-4-gain")) === "-3", "the EQ gain was not kept");
  expect((await page.inputValue("#shootout-calibration")) === "14", "the DI calibration was not kept");
  expect((await page.inputValue("#chain-2-input-mode")) === "2", "the RMS input mode was not kept");
  expect((await page.inputValue("#chain-1-block-7-mix")) === "15", "the reverb mix was not kept");
  expect(
    (await page.textContent("#job-title").catch(() => "")).includes("Browser test shootout") ||
      (await page.$("#room")) !== null,
    "the render is not headlined by the shootout's name",
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
  page.off("request", countWatch);
  expect(watchCalls >= 1, "the reloaded page never re-opened WatchJob");
  log(`the job succeeded (WatchJob opened ${watchCalls}x after the reload)`);

  step = "the listening room loads every chain into Web Audio";
  await page.waitForSelector("#room-status[data-ready=true]", { timeout: 60_000 });
  const chainNames = await page.$$eval("#chain-cards article h3", (els) => els.map((e) => e.textContent));
  expect(chainNames.join() === "Amp A,Library amp", `the cards are ${chainNames}`);
  expect(!(await page.textContent("#room")).includes(jobId), "the job id shows in the results");
  const waveformSource = await page.getAttribute("#waveform", "data-waveform");
  expect(waveformSource === "di", `the waveform shows ${waveformSource}, not the levelled DI`);

  step = "switch chains mid-playback: the playhead and the sources are kept";
  const hook = () => page.evaluate(() => {
    const a = window.__gtsAudio;
    return { current: a.current(), position: a.position(), playing: a.playing(), startedAt: a.startedAt(), sources: a.sources(), switches: a.switches(), gains: a.gains(), loop: a.loop() };
  });
  await page.click("#play");
  await page.waitForFunction(() => window.__gtsAudio.playing() && window.__gtsAudio.position() > 0.6);
  const beforeSwitch = await hook();
  expect(beforeSwitch.current === 0 && beforeSwitch.sources === 2, `before switching: ${JSON.stringify(beforeSwitch)}`);
  await page.keyboard.press("2");
  const after = await hook();
  expect(after.current === 1, `key 2 did not switch: ${JSON.stringify(after)}`);
  expect(after.playing && after.startedAt === beforeSwitch.startedAt, `switching restarted the sources: ${JSON.stringify({ beforeSwitch, after })}`);
  expect(after.position >= beforeSwitch.position && after.position - beforeSwitch.position < 0.5, `the playhead jumped: ${beforeSwitch.position} -> ${after.position}`);
  await page.waitForFunction(() => {
    const [a, b] = window.__gtsAudio.gains();
    return a < 0.01 && b > 0.99;
  });
  expect((await page.getAttribute("#switcher button[data-chain='1']", "aria-pressed")) === "true", "the switcher does not show chain 2 as playing");
  expect((await page.getAttribute("#chain-cards article[data-chain='1']", "aria-current")) === "true", "the card of chain 2 is not highlighted");
  await page.waitForSelector("#spectrum-figure:not([hidden])");
  for (const chart of ["#spectrum-chart", "#level-bars"]) {
    const highlighted = await page.getAttribute(chart, "data-highlight");
    expect(highlighted === "1", `${chart} highlights chain ${highlighted}, not the one playing (2)`);
  }
  await page.click("#switcher button[data-chain='0']");
  const back = await hook();
  expect(back.current === 0 && back.startedAt === beforeSwitch.startedAt && back.switches === 2, `clicking back: ${JSON.stringify(back)}`);
  expect((await page.getAttribute("#level-bars", "data-highlight")) === "0", "the level chart did not follow the switch back");
  log(`switched at ${beforeSwitch.position.toFixed(2)} s and ${after.position.toFixed(2)} s without a restart`);

  step = "loop a region dragged on the waveform";
  const box = await page.locator("#waveform").boundingBox();
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const looped = await hook();
  expect(looped.loop && looped.loop.end > looped.loop.start + 1, `no loop after dragging: ${JSON.stringify(looped.loop)}`);
  await page.waitForFunction(
    ({ start, end }) => {
      const p = window.__gtsAudio.position();
      return p >= start - 0.05 && p <= end + 0.05;
    },
    looped.loop,
  );
  await page.keyboard.press("Escape");
  expect((await hook()).loop === null, "Escape did not clear the loop");
  await page.click("#play"); // pause

  step = "results explain themselves: gear, evaluation, plots";
  const card = await page.textContent("#chain-cards article[data-chain='0']");
  // amp-a.nam states input_level_dbu +18.3: calibrated, the DI 14 − 18.3 = −4.3 dB.
  for (const words of ["amp-a.nam", "cab.wav", "LUFS", "dBTP", "Reverb", "Noise gate", "calibrated at +18.3 dBu", "Input: Calibrated: DI -4.3 dB"]) {
    expect(card.includes(words), `the first card does not mention ${words}: ${card}`);
  }
  const second = await page.textContent("#chain-cards article[data-chain='1']");
  expect(second.includes("Input: RMS level"), `the RMS chain's card does not say so: ${second}`);
  const sentences = await page.$$eval("#chain-cards .evaluation li", (els) => els.length);
  expect(sentences > 0, "no evaluation sentence is shown");
  const plotLoaded = await page.$eval("#spectrum-plot", (img) =>
    img.complete ? img.naturalWidth > 0 : new Promise((r) => (img.onload = () => r(img.naturalWidth > 0))),
  );
  expect(plotLoaded, "the spectrum plot did not load");
  await page.waitForSelector("#metrics tbody tr", { state: "attached" });
  await page.waitForSelector("#ab-audio", { state: "attached" });

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

  step = "screenshots of the results page (desktop and phone)";
  await page.screenshot({ path: join(artifacts, "results-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator("#room").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(artifacts, "results-phone.png"), fullPage: true });
  const phoneWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(phoneWidth <= 390, `the phone layout scrolls sideways (${phoneWidth} px wide)`);
  await page.setViewportSize({ width: 1100, height: 1400 });

  step = "blind mode: shuffled, the same order after a reload, a correct reveal";
  await page.keyboard.press("b");
  await page.waitForSelector("#blind-panel fieldset");
  const labels = await page.$$eval("#switcher button", (els) => els.map((e) => e.textContent.trim()));
  expect(labels.join() === "1 Tone A,2 Tone B", `blind labels are ${labels}`);
  expect(!(await page.textContent("#room .player")).includes("Amp A"), "blind mode still names a chain in the player");
  await page.keyboard.press("1");
  const toneA = (await hook()).current;
  expect(toneA === 1, `Tone A is chain ${toneA}: two chains must never keep their built order`);
  await page.reload();
  await page.waitForSelector("#room-status[data-ready=true]", { timeout: 60_000 });
  expect(await page.isChecked("#blind-toggle"), "blind mode did not survive the reload");
  await page.keyboard.press("1");
  expect((await hook()).current === toneA, "after the reload Tone A is another chain");
  await page.check("#blind-pick-0");
  await page.click("#blind-reveal");
  await page.waitForSelector("#blind-reveal-list");
  const revealed = await page.$eval("#blind-reveal-list li[data-slot='0']", (li) => ({ chain: Number(li.dataset.chain), text: li.textContent }));
  expect(revealed.chain === toneA && revealed.text.includes(chainNames[toneA]), `the reveal says ${JSON.stringify(revealed)}`);
  const comparison = await page.textContent("#blind-comparison");
  expect(comparison.includes(`You picked ${chainNames[toneA]}`) && comparison.includes("brightest"), `the comparison says: ${comparison}`);
  await page.click("#blind-reveal"); // a new round
  await page.uncheck("#blind-toggle");

  step = "a second render (another result, for the share test)";
  await page.click("#submit-shootout");
  const secondJob = await page.waitForFunction(
    (first) => {
      const id = document.getElementById("job")?.dataset.jobId;
      return id && id !== first ? id : null;
    },
    jobId,
  );
  const otherJobId = await secondJob.jsonValue();
  await page.waitForSelector("#room-status[data-ready=true]", { timeout });
  const otherArtifact = await page.getAttribute("#ab-download", "data-artifact-id");
  expect(otherArtifact, "the second result has no A/B download");
  log(`second render ${otherJobId} done`);
  await page.goto(`${url}${new URL(page.url()).pathname.replace(otherJobId, jobId)}`);
  await page.waitForSelector("#room-status[data-ready=true]", { timeout: 60_000 });

  step = "share the first result";
  await page.click("#share-create");
  const link = await page.inputValue("#share-link");
  const token = link.split("/s/")[1];
  expect(token && token.length === 43, `the share link is ${link}`);
  const ownArtifact = await page.getAttribute("#ab-download", "data-artifact-id");

  step = "open the share link without a session";
  const visitor = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const guest = await visitor.newPage();
  guest.on("pageerror", (e) => log(`guest page error: ${e.message}`));
  await guest.goto(link);
  await guest.waitForSelector("#room-status[data-ready=true]", { timeout: 60_000 });
  expect((await guest.evaluate(() => sessionStorage.getItem("gts.session"))) === null, "the visitor has a session");
  expect((await guest.textContent("#room-title")) === "Browser test shootout", "the shared page is not the result");
  expect((await guest.getAttribute("#waveform", "data-waveform")) === "di", "the shared page's waveform is not the DI's");
  await guest.click("#play");
  await guest.waitForFunction(() => window.__gtsAudio.position() > 0.3);
  await guest.keyboard.press("2");
  expect((await guest.evaluate(() => window.__gtsAudio.current())) === 1, "the visitor cannot switch chains");
  const fetchStatus = (p, u) => p.evaluate(async (u) => (await fetch(u)).status, u);
  expect((await fetchStatus(guest, `/shared/${token}/${ownArtifact}`)) === 200, "the shared A/B file is not served");
  const refusedOther = await fetchStatus(guest, `/shared/${token}/${otherArtifact}`);
  expect(refusedOther === 404, `another result's artifact answered ${refusedOther} with the token`);
  const unsigned = await fetchStatus(guest, `/artifacts/jobs/${otherJobId}/ab.flac`);
  expect(unsigned === 403, `an unsigned artifact path answered ${unsigned}`);
  log("shared page plays; another result's artifacts are refused");
  // Gear by name without a session (from the render's manifest), never TONE3000 ids.
  const sharedCards = await guest.textContent("#chain-cards");
  expect(sharedCards.includes("cab.wav") && sharedCards.includes("amp-a.nam"), `the shared cards do not name the gear: ${sharedCards}`);
  expect(!sharedCards.includes("TONE3000 tone"), `the shared cards show TONE3000 ids: ${sharedCards}`);

  step = "revoke the link: the page and its artifact URLs are refused at once";
  await page.click("#share-revoke");
  await page.waitForSelector("#share-create");
  const afterRevoke = await fetchStatus(guest, `/shared/${token}/${ownArtifact}`);
  expect(afterRevoke === 404, `after revoking, the artifact URL answered ${afterRevoke}`);
  await guest.reload();
  await guest.waitForSelector("#share-gone");
  await visitor.close();

  step = "a text file and a silent recording are refused as DIs in plain words";
  for (const [file, words] of [
    ["not-audio.wav", "This file isn't audio we can read. Export it as WAV, FLAC, MP3, AIFF or OGG."],
    ["silent.wav", "This DI is silent"],
  ]) {
    await page.setInputFiles("#di-file", join(files, file));
    await page.click("#di-upload");
    await page.waitForFunction(() => (document.getElementById("di-status")?.textContent ?? "").startsWith("Upload failed"));
    const text = await page.textContent("#di-status");
    expect(text.includes(words), `${file}: the message is "${text}"`);
    expect(!/discard|resume|symphonia|decode/i.test(text), `${file}: the message has jargon: "${text}"`);
    const bar = await page.$eval("#di-progress", (el) => el.value);
    expect(bar < 1, `${file}: the failed upload shows a full bar`);
  }
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
