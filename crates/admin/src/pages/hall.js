// The counter page and the calling display: both call the staff API's counter calls with the counter token.
// The token, the counter and its categories come from the page's address after '#' (never sent to the
// server, so never in its logs: #token=…&counter=3&categories=A,D) or from the form; they are kept for the
// browser tab only (sessionStorage). Every text from the server is put on the page as text, never as HTML.
"use strict";

const kept = window.sessionStorage;
const fragment = new URLSearchParams(location.hash.slice(1));
for (const key of ["token", "counter", "categories"]) {
  if (fragment.has(key)) kept.setItem(key, fragment.get(key));
}
if (location.hash) history.replaceState(null, "", location.pathname);

const $ = (id) => document.getElementById(id);

function say(text, bad) {
  const s = $("status");
  s.textContent = text;
  s.className = bad ? "warning" : "";
}

// One call to the staff API: its JSON, or an Error whose message is the server's sentence.
async function api(method, path, body) {
  const init = { method, headers: { Authorization: "Bearer " + (kept.getItem("token") || "") } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const answer = await fetch(path, init);
  const json = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(json.error || ("HTTP " + answer.status));
  return json;
}

// A shared hall whose database does not answer: each kiosk counts and calls its own tickets only.
function hallState(json) {
  const w = $("hall-warning");
  const away = json.shared && !json.hall;
  w.hidden = !away;
  w.textContent = away
    ? "大厅排队数据库连不上：现在只能叫这台取号机的号，人数也只算这台机器的。请联系技术人员。 " +
      "The hall's queue database cannot be reached: only this kiosk's tickets are called and counted. Please call a technician."
    : "";
}

// ---- The counter page ----
let current = null;
// The categories' names by prefix, from the waiting counts.
const names = new Map();

function showCurrent() {
  $("current").textContent = current ? current.number : "—";
  $("current-category").textContent = current ? current.category + " " + (names.get(current.category) || "") : "";
  for (const id of ["recall", "complete", "no-show", "transfer"]) $(id).disabled = !current;
}

async function refreshCounts() {
  try {
    const q = await api("GET", "/api/v1/queue");
    hallState(q);
    const body = $("counts").tBodies[0];
    body.replaceChildren();
    for (const [prefix, c] of Object.entries(q.categories)) {
      names.set(prefix, c.name_zh + " " + c.name_en);
      const row = body.insertRow();
      row.insertCell().textContent = prefix + " " + c.name_zh + " " + c.name_en;
      row.insertCell().textContent = String(c.waiting);
      row.dataset.category = prefix;
    }
    return q;
  } catch (e) {
    say("无法读取等候人数 Cannot read the waiting counts: " + e.message, true);
    return null;
  }
}

async function counterAct(action, body) {
  if (!current) return;
  try {
    const r = await api("POST", "/api/v1/tickets/" + encodeURIComponent(current.ticket_id) + "/" + action, body);
    say(r.number + " → " + r.state);
    hallState(r.hall === undefined ? {} : { shared: true, hall: r.hall });
    if (action !== "recall") current = null;
    showCurrent();
    refreshCounts();
  } catch (e) {
    say(e.message, true);
  }
}

async function startCounter() {
  const form = $("setup");
  $("counter").value = kept.getItem("counter") || "";
  $("token").value = kept.getItem("token") || "";
  const q = kept.getItem("token") ? await refreshCounts() : null;
  const chosen = (kept.getItem("categories") || "").split(",").filter(Boolean);
  if (q) {
    const box = $("cats");
    for (const [prefix, c] of Object.entries(q.categories)) {
      const label = document.createElement("label");
      const tick = document.createElement("input");
      tick.type = "checkbox";
      tick.value = prefix;
      tick.checked = chosen.includes(prefix);
      label.append(tick, " " + prefix + " " + c.name_zh + " " + c.name_en);
      box.append(label);
      const option = document.createElement("option");
      option.value = prefix;
      option.textContent = prefix + " " + c.name_zh;
      $("transfer-category").append(option);
    }
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    kept.setItem("counter", $("counter").value.trim());
    kept.setItem("token", $("token").value.trim());
    const ticked = [...document.querySelectorAll("#cats input:checked")].map((t) => t.value);
    if (ticked.length) kept.setItem("categories", ticked.join(","));
    location.reload();
  });
  if (q && kept.getItem("counter") && chosen.length) {
    form.hidden = true;
    $("desk").hidden = false;
    say("窗口 " + kept.getItem("counter") + " · " + chosen.join(", "));
  }
  $("call-next").addEventListener("click", async () => {
    try {
      const r = await api("POST", "/api/v1/counters/" + encodeURIComponent(kept.getItem("counter")) + "/call-next", {
        categories: (kept.getItem("categories") || "").split(",").filter(Boolean),
      });
      if (r.hall !== undefined || q) hallState({ shared: q && q.shared, hall: r.hall === true });
      current = r.called;
      showCurrent();
      if (!current) say("没有等候的号 No ticket is waiting in these categories.");
      else say(current.number + " → " + kept.getItem("counter"));
      refreshCounts();
    } catch (e) {
      say(e.message, true);
    }
  });
  $("recall").addEventListener("click", () => counterAct("recall", { counter: kept.getItem("counter") }));
  $("complete").addEventListener("click", () => counterAct("complete"));
  $("no-show").addEventListener("click", () => counterAct("no-show"));
  $("transfer").addEventListener("click", () => {
    const to = $("transfer-counter").value.trim();
    counterAct("transfer", { category: $("transfer-category").value, counter: to || null });
  });
  showCurrent();
  setInterval(refreshCounts, 3000);
}

// ---- The calling display ----
let since = 0;
const perCounter = new Map();
const recent = [];
const toSay = [];
let saying = false;
// What the display has announced, newest last (the page's own record; a test reads it).
window.announced = [];

async function sound(number, counter, lang) {
  const q = "number=" + encodeURIComponent(number) + "&counter=" + encodeURIComponent(counter) + "&lang=" + lang;
  const answer = await fetch("/api/v1/announcement?" + q, {
    headers: { Authorization: "Bearer " + (kept.getItem("token") || "") },
  });
  if (!answer.ok) throw new Error("HTTP " + answer.status);
  return URL.createObjectURL(await answer.blob());
}

function play(url) {
  return new Promise((done) => {
    const a = new Audio(url);
    a.onended = done;
    a.onerror = done;
    a.play().catch(done);
  });
}

// Each call is said in Chinese then in English, and repeated once; one call after another.
async function sayNext() {
  if (saying || !toSay.length) return;
  saying = true;
  const call = toSay.shift();
  try {
    const zh = await sound(call.number, call.counter, "zh");
    const en = await sound(call.number, call.counter, "en");
    window.announced.push(call.number + "@" + call.counter);
    for (let i = 0; i < 2; i++) {
      await play(zh);
      await play(en);
    }
    URL.revokeObjectURL(zh);
    URL.revokeObjectURL(en);
  } catch (e) {
    say("叫号语音不可用 The spoken call is not available: " + e.message, true);
  }
  saying = false;
  sayNext();
}

function drawDisplay(latest) {
  const body = $("now").tBodies[0];
  body.replaceChildren();
  for (const [counter, number] of [...perCounter.entries()].sort((a, b) => a[0].localeCompare(b[0], "zh"))) {
    const row = body.insertRow();
    row.insertCell().textContent = counter;
    const n = row.insertCell();
    n.textContent = number;
    n.className = "number";
  }
  const list = $("recent");
  list.replaceChildren();
  for (const c of recent.slice(-8).reverse()) {
    const item = document.createElement("li");
    item.textContent = c.number + " → " + c.counter + (c.recall ? "（重呼 recall）" : "");
    list.append(item);
  }
  if (latest) {
    $("latest").hidden = false;
    $("latest-number").textContent = latest.number;
    $("latest-counter").textContent = latest.counter;
    // The same words the announcement says (hall_pages::announcement), the number as printed.
    const numeric = /^[0-9]+$/.test(latest.counter);
    const zh = numeric ? "请 " + latest.number + " 号到 " + latest.counter + " 号窗口办理"
      : "请 " + latest.number + " 号到 " + latest.counter + " 办理";
    const en = "Number " + latest.number + ", please go to " + (numeric ? "counter " + latest.counter : latest.counter) + ".";
    $("latest-words").textContent = zh + " · " + en;
  }
}

async function pollDisplay(first) {
  try {
    const r = await api("GET", "/api/v1/calls?since=" + since);
    hallState(r);
    say("");
    let latest = null;
    for (const c of r.calls) {
      since = Math.max(since, c.id);
      perCounter.set(c.counter, c.number);
      recent.push(c);
      latest = c;
      if (!first) toSay.push(c);
    }
    if (recent.length > 50) recent.splice(0, recent.length - 50);
    if (latest || first) drawDisplay(latest);
    sayNext();
  } catch (e) {
    say("无法读取叫号 Cannot read the calls: " + e.message, true);
  }
  setTimeout(() => pollDisplay(false), 500);
}

if (document.body.dataset.page === "counter") startCounter();
else if (!kept.getItem("token")) say("请在地址后加上 #token=… 打开本页 Open this page with #token=… after its address.", true);
else pollDisplay(true);
