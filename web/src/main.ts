// The GTS web console: sign-in, the workspace (library, uploads, the shootout builder, my
// shootouts and renders, live progress), the listening room, and share links (`/s/<token>`,
// open without a session). Plain DOM, no framework: each section renders itself.
import { auth } from "./api";
import { clearSession, getSession, setSession } from "./session";
import { byId, describe, h, notify } from "./util";
import { renderShared } from "./shared";
import { renderWorkspace } from "./workspace";

async function completeLogin(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const app = byId("app");
  const error = params.get("error");
  if (error) {
    app.replaceChildren(
      h("p", { role: "alert", text: `TONE3000 sign-in failed: ${params.get("error_description") || error}` }),
      h("p", {}, h("a", { href: "/", text: "Back to the console" })),
    );
    return;
  }
  const code = params.get("code") ?? "";
  const state = params.get("state") ?? "";
  app.replaceChildren(h("p", { "aria-live": "polite", text: "Signing you in…" }));
  try {
    const response = await auth.completeLogin({ code, state });
    if (!response.session) throw new Error("CompleteLogin returned no session");
    setSession(response.session, response.user);
    const next = response.returnTo.startsWith("/") ? response.returnTo : "/";
    window.history.replaceState(null, "", next);
    route();
  } catch (err) {
    app.replaceChildren(
      h("p", { role: "alert", text: `Sign-in failed: ${describe(err)}` }),
      h("p", {}, h("a", { href: "/", text: "Try again" })),
    );
  }
}

function renderSignIn(): void {
  const button = h("button", { id: "sign-in", type: "button", text: "Sign in with TONE3000" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const started = await auth.startLogin({ returnTo: "/" });
      window.location.assign(started.authorizeUrl);
    } catch (err) {
      button.disabled = false;
      notify(`Could not start the sign-in: ${describe(err)}`);
    }
  });
  byId("app").replaceChildren(
    h(
      "section",
      { "aria-labelledby": "sign-in-title" },
      h("h2", { id: "sign-in-title", text: "Sign in" }),
      h("p", {
        text: "Compare amp captures fairly: same DI, same input level, matched loudness. Sign in with your TONE3000 account to start.",
      }),
      button,
    ),
  );
}

function renderAccount(): void {
  const account = byId("account");
  const session = getSession();
  if (!session) {
    account.replaceChildren();
    return;
  }
  const out = h("button", { id: "sign-out", type: "button", text: "Sign out" });
  out.addEventListener("click", async () => {
    try {
      await auth.logout({});
    } catch {
      // Signing out locally is what matters; the session expires on its own.
    }
    clearSession();
    localStorage.removeItem("gts.job");
    route();
  });
  account.replaceChildren(
    h("span", { id: "signed-in-as", text: `Signed in as ${session.user?.username ?? "you"} ` }),
    out,
  );
}

function route(): void {
  const share = window.location.pathname.match(/^\/s\/([A-Za-z0-9_-]+)$/);
  if (share) {
    byId("account").replaceChildren(h("a", { href: "/", text: "Make your own shootout" }));
    void renderShared(byId("app"), share[1]);
    return;
  }
  renderAccount();
  if (window.location.pathname === "/auth/callback") {
    void completeLogin();
    return;
  }
  if (!getSession()) {
    renderSignIn();
    return;
  }
  renderWorkspace(byId("app"));
}

window.addEventListener("gts:signed-out", () => {
  notify("Your session ended; please sign in again.");
  route();
});
window.addEventListener("popstate", route);
route();
