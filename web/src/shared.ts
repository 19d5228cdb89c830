// The listening room of a share link (`/s/<token>`), for anyone holding the link: no
// session, no other call than the two shared-result RPCs (with the token alone), and
// artifacts downloaded through the gateway's `/shared/<token>/<artifact id>`, which
// checks the token on every download. A revoked or unknown link says so plainly.
import { Code, ConnectError } from "@connectrpc/connect";
import { publicJobs } from "./api";
import { gearOf } from "./gear";
import { renderRoom } from "./room";
import { describe, h, timestampMs } from "./util";

export async function renderShared(app: HTMLElement, token: string): Promise<void> {
  app.replaceChildren(h("p", { "aria-live": "polite", text: "Opening the shared result…" }));
  try {
    const result = await publicJobs.getSharedResult({ token });
    const chains = await Promise.all(
      result.chainResults.map(async (r) => {
        const chain = result.chains[r.chainIndex];
        return {
          name: r.displayName || chain?.displayName || `Chain ${r.chainIndex + 1}`,
          gear: chain ? await gearOf(chain.blocks, chain.inputHighPassHz, false) : [],
          result: r,
        };
      }),
    );
    const when = timestampMs(result.finishedAt);
    const base = `${window.location.origin}/shared/${encodeURIComponent(token)}/`;
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
