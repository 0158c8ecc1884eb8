// Progressive enhancement of the server-rendered page: critique chips and feedback update in place through
// the JSON API. Without JavaScript the same links and form work as plain navigation.
"use strict";

function apiKey() {
  const input = document.getElementById("api-key");
  return input ? input.value : "";
}

function say(text) {
  document.getElementById("status").textContent = text;
}

function renderList(list, data, writes) {
  list.replaceChildren();
  if (data.items.length === 0) {
    const li = document.createElement("li");
    li.textContent = "No item fits these descriptors.";
    list.append(li);
  }
  for (const item of data.items) {
    const li = document.createElement("li");
    const path = (item.descriptor_path || []).join(" › ");
    li.dataset.item = item.item_id;
    li.dataset.path = path;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = Object.values(item.fields)[0] || item.text;
    text.title = item.text;
    li.append(text);
    if (path) {
      const span = document.createElement("span");
      span.className = "path";
      span.textContent = path;
      li.append(span);
    }
    if (item.explanation) {
      const why = document.createElement("span");
      why.className = "why";
      why.textContent = "Why: " + item.explanation.explanation;
      li.append(why);
    }
    if (writes) {
      const button = document.createElement("button");
      button.type = "submit";
      button.className = "like";
      button.setAttribute("form", "feedback");
      button.name = "item_id";
      button.value = item.item_id;
      button.textContent = "Like";
      button.setAttribute("aria-label", "I like " + item.text.slice(0, 60));
      li.append(button);
    }
    list.append(li);
  }
}

async function applyChip(chip, event) {
  event.preventDefault();
  const form = document.getElementById("feedback");
  const list = document.getElementById("recommendations");
  const before = chip.getAttribute("aria-pressed");
  chip.setAttribute("aria-pressed", before === "true" ? "false" : "true");
  list.setAttribute("aria-busy", "true");
  const allow = [...document.querySelectorAll(".chip[aria-pressed='true']")].map((c) => c.dataset.token);
  const user = form.elements.user_id.value;
  const params = new URLSearchParams({ model: form.elements.model.value });
  allow.forEach((a) => params.append("allow", a));
  try {
    const response = await fetch(`/v1/users/${encodeURIComponent(user)}/recommendations?${params}`, {
      headers: apiKey() ? { "X-API-Key": apiKey() } : {},
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || `request failed (HTTP ${response.status})`);
    renderList(list, data, form.dataset.writes === "true");
    form.querySelectorAll("input[name='allow']").forEach((input) => input.remove());
    for (const a of allow) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "allow";
      input.value = a;
      form.append(input);
    }
    params.set("user", user);
    history.replaceState(null, "", "/?" + params);
    say(allow.length ? `showing items under ${allow.length} descriptor(s)` : "showing all items");
  } catch (error) {
    chip.setAttribute("aria-pressed", before); // the list still shows what the chips said before the click
    say(`not updated: ${error.message}`);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

async function sendFeedback(event) {
  event.preventDefault();
  const form = event.target;
  const item = event.submitter ? event.submitter.value : "";
  const response = await fetch("/v1/events", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": apiKey() },
    body: JSON.stringify({
      user_id: form.elements.user_id.value,
      item_id: item,
      type: form.elements.type.value,
      idempotency_key: `page:${form.elements.nonce.value}:${item}`,
    }),
  });
  const data = await response.json();
  say(response.ok ? `saved: ${form.elements.type.value} ${item}` : data.detail || "not saved");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".chip").forEach((chip) => chip.addEventListener("click", (e) => applyChip(chip, e)));
  const form = document.getElementById("feedback");
  if (form) form.addEventListener("submit", sendFeedback);
});
