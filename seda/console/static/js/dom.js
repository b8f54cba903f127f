// Every piece of text reaches the page as a text node: nothing from the API is ever parsed as HTML.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  append(element, children);
  return element;
}

export function show(view, ...children) {
  view.replaceChildren(...children.flat().filter(Boolean));
}

// A click handler that asks `question` first and does `action` only when the admin agrees:
// bans, deletions and role grants are not one slip of the mouse away.
export function askedFirst(question, action) {
  return () => {
    if (window.confirm(typeof question === "function" ? question() : question)) action();
  };
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

export function person(user) {
  if (!user) return "—";
  if (!user.username) return user.displayName; // a deleted account: "Deleted user"
  return `${user.displayName} (@${user.username})`;
}

// The claim code marked wherever it appears in the excerpt, matched as the check matches it
// (case-insensitively); the rest stays plain text.
export function highlighted(text, code) {
  if (!text) return [];
  if (!code) return [text];
  const parts = [];
  const lower = text.toLowerCase();
  const needle = code.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    parts.push(text.slice(from, at), h("mark", {}, text.slice(at, at + code.length)));
    from = at + code.length;
  }
  parts.push(text.slice(from));
  return parts;
}
