// The console's shell: sign-in, the page router (#/<page>) and the messages at the top.

import { Api } from "./api.js";
import { h, show } from "./dom.js";
import * as audit from "./pages/audit.js";
import * as reports from "./pages/reports.js";
import * as room from "./pages/room.js";
import * as stats from "./pages/stats.js";
import * as users from "./pages/users.js";
import * as verifications from "./pages/verifications.js";

const PAGES = { verifications, reports, users, room, audit, stats };
const api = new Api();
const view = document.getElementById("view");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signOut = document.getElementById("sign-out");
const flashBox = document.getElementById("flash");
let leavePage = null;
let showing = 0; // which route() call's page is the one on screen

function flash(text, ok = false) {
  flashBox.textContent = text;
  flashBox.className = ok ? "ok" : "";
  flashBox.hidden = !text;
}

// Runs an action of a page: its failure is shown, never swallowed.
async function attempt(action, done) {
  try {
    const result = await action();
    if (done) flash(done, true);
    return result;
  } catch (error) {
    flash(error.message);
    return undefined;
  }
}

const context = { api, view, flash, attempt };

function signInPage() {
  const email = h("input", { type: "email", name: "email", placeholder: "Email", required: true, autocomplete: "username" });
  const password = h("input", {
    type: "password", name: "password", placeholder: "Password", required: true, autocomplete: "current-password",
  });
  const form = h("form", { class: "login", id: "sign-in" },
    h("h1", {}, "Sign in"), email, password, h("button", { class: "primary", type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    flash("");
    const signedIn = await attempt(async () => { await api.signIn(email.value, password.value); return true; });
    if (signedIn) {
      password.value = "";
      // Setting the hash routes (hashchange); routing as well left a second page running.
      if (location.hash === "#/verifications") route();
      else location.hash = "#/verifications";
    }
  });
  show(view, form);
}

async function route() {
  const mine = ++showing;
  if (leavePage) {
    leavePage();
    leavePage = null;
  }
  const signedIn = api.signedIn;
  nav.hidden = signOut.hidden = !signedIn;
  who.textContent = signedIn ? `${api.user.email} · ${api.user.role}` : "";
  if (!signedIn) {
    signInPage();
    return;
  }
  const name = location.hash.replace(/^#\//, "") || "verifications";
  const page = PAGES[name] || PAGES.verifications;
  for (const link of nav.querySelectorAll("a")) link.classList.toggle("active", link.hash === `#/${name}`);
  show(view, h("p", { class: "muted" }, "Loading…"));
  const leave = (await attempt(() => page.render(context))) || null;
  if (mine === showing) {
    leavePage = leave;
  } else if (leave) {
    leave(); // another page was asked for while this one loaded: this one must not keep running
  }
}

api.onSignedOut = () => {
  location.hash = "";
  route();
};
signOut.addEventListener("click", () => attempt(() => api.signOut()));
window.addEventListener("hashchange", () => { flash(""); route(); });
route();
