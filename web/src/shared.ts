// The listening room of a share link (`/s/<token>`), for anyone holding the link: no
// session, no other call than the two shared-result RPCs (with the token alone), and
// artifacts downloaded through the gateway's `/shared/<token>/<artifact id>`, which
// checks the token on every download. A revoked or unknown link says so plainly.
import { Code, ConnectError } from "@connectrpc/connect";
import { publicJobs } from "./api";
import { gearOf } from "./gear";
import { ArtifactKind, type Artifact } from "./gen/gts/v1/job_pb";
import { type GearLine, renderRoom } from "./room";
import { describe, h, timestampMs } from "./util";

export async function renderShared(app: HTMLElement, token: string): Promise<void> {
  app.replaceChildren(h("p", { "aria-live": "polite", text: "Opening the shared result…" }));
  try {
    const result = await publicJobs.getSharedResult({ token });
    const base = `${window.location.origin}/shared/${encodeURIComponent(token)}/`;
    // Without a session the library cannot be asked for gear names; the render's manifest
    // (one of the shared artifacts) has them, as the render named them on its cards.
    const named = await manifestBlocks(result.artifacts, base);
    const chains = await Promise.all(
      result.chainResults.map(async (r) => {
        const chain = result.chains[r.chainIndex];
        const lines = named?.[r.chainIndex];
        const gear = lines
          ? gearFromLines(lines, chain?.inputHighPassHz)
          : chain
            ? await gearOf(chain.blocks, chain.inputHighPassHz, false)
            : [];
        return {
          name: r.displayName || chain?.displayName || `Chain ${r.chainIndex + 1}`,
          gear,
          result: r,
        };
      }),
    );
    const when = timestampMs(result.finishedAt);
    renderRoom(app, {
      resultKey: `share:${token}`,
      title: result.shootoutName || "A shared tone shootout",
      subtitle: `Shared with you · ${chains.length} chains on the same DI, matched in loudness${when ? ` · rendered ${new Date(when).toLocaleDateString()}` : ""}`,
      chains,
      artifacts: result.artifacts,
      url: async (artifact) => `${base}${artifact.id}`,
    });
  } catch (err) {
    const gone = err instanceof ConnectError && err.code === Code.NotFound;
    app.replaceChildren(
      h(
        "section",
        { id: "share-gone", "aria-labelledby": "share-gone-title" },
        h("h2", { id: "share-gone-title", text: gone ? "This link no longer works" : "This result could not be opened" }),
        h("p", { role: "alert", text: gone ? "Its owner turned the share link off, or it was mistyped. Ask them for a new link." : `Something went wrong: ${describe(err)}. Try again in a moment.` }),
      ),
    );
  }
}

/** Each chain's block lines from the manifest ("Amp: JCM800 2203 · standard"), or null. */
async function manifestBlocks(artifacts: Artifact[], base: string): Promise<string[][] | null> {
  const manifest = artifacts.find((a) => a.kind === ArtifactKind.MANIFEST);
  if (!manifest) return null;
  try {
    const response = await fetch(`${base}${manifest.id}`);
    if (!response.ok) return null;
    const json = (await response.json()) as { chains?: { blocks?: unknown }[] };
    const chains = json.chains?.map((c) => (Array.isArray(c.blocks) ? c.blocks.filter((b): b is string => typeof b === "string") : []));
    return chains ?? null;
  } catch {
    return null;
  }
}

function gearFromLines(lines: string[], inputHighPassHz: number | undefined): GearLine[] {
  const gear: GearLine[] = inputHighPassHz ? [{ kind: "Input", title: `High-pass at ${Math.round(inputHighPassHz)} Hz`, details: [] }] : [];
  for (const line of lines) {
    const at = line.indexOf(": ");
    gear.push(at > 0 ? { kind: line.slice(0, at), title: line.slice(at + 2), details: [] } : { kind: "", title: line, details: [] });
  }
  return gear;
}
