// Every admin change, newest first.

import { h, show, when } from "../dom.js";

export async function render({ api, view }) {
  const actions = await api.get("/admin/actions?limit=100");
  show(view, h("h1", {}, "Audit log"), h("table", { id: "audit" },
    h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Target", "Details"].map((t) => h("th", {}, t)))),
    h("tbody", {}, actions.map((action) => h("tr", {},
      h("td", {}, when(action.createdAt)), h("td", {}, action.actor), h("td", {}, action.action),
      h("td", {}, `${action.targetType} ${action.targetId || ""}`),
      h("td", {}, action.details ? JSON.stringify(action.details) : ""))))));
}
