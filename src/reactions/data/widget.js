/* Reactions widget: <div data-reactions-article="ARTICLE_ID"></div> + this script renders the
   "What's Your Reaction?" bar with counts and true percentages. No framework. The reader is
   a random id kept in localStorage (only its salted hash is stored server-side). */
(function () {
  "use strict";
  var KINDS = __KINDS__;
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : "";
  var STORAGE_KEY = "reactions-client-id";

  function clientId() {
    try {
      var id = localStorage.getItem(STORAGE_KEY);
      if (!id) {
        id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
          : String(Math.random()).slice(2) + Date.now().toString(36);
        localStorage.setItem(STORAGE_KEY, id);
      }
      return id;
    } catch (e) {
      return null; /* storage blocked: the server falls back to a daily-rotating identity */
    }
  }

  function percent(share, total) {
    return total ? Math.round(share * 100) + "%" : "–";
  }

  /* The title is not a heading unless the host page asks for one at the level its outline
     needs (data-reactions-heading="2" … "6"): a fixed <h3> broke host pages' heading order. */
  function titleFor(el) {
    var level = el.getAttribute("data-reactions-heading");
    var tag = /^[2-6]$/.test(level || "") ? "h" + level : "p";
    var title = document.createElement(tag);
    title.textContent = "What's Your Reaction?";
    title.style.cssText = "margin:0 0 8px;font-weight:700";
    return title;
  }

  function render(el, state) {
    el.textContent = "";
    var title = titleFor(el);
    el.appendChild(title);
    var row = document.createElement("div");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "What's Your Reaction?");
    row.style.cssText = "display:flex;flex-wrap:wrap;gap:8px";
    KINDS.forEach(function (kind) {
      var mine = state.your_reaction === kind.id;
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-kind", kind.id);
      button.setAttribute("aria-pressed", mine ? "true" : "false");
      button.style.cssText = "padding:6px 10px;border-radius:8px;cursor:pointer;font:inherit;" +
        "border:1px solid " + (mine ? kind.color : "#cbd5e1") + ";" +
        "background:" + (mine ? kind.color : "#fff") + ";color:" + (mine ? "#fff" : "#0f172a");
      var count = state.counts[kind.id] || 0;
      button.textContent = kind.emoji + " " + kind.label + " · " + count.toLocaleString() +
        " · " + percent(state.shares[kind.id] || 0, state.total);
      button.title = mine ? "Your reaction: tap again to undo" : "React: " + kind.label;
      button.addEventListener("click", function () { tap(el, kind.id); });
      row.appendChild(button);
    });
    el.appendChild(row);
    /* Screen readers hear the outcome of a tap (the pressed state alone is silent). */
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    status.style.cssText = "margin:6px 0 0;font-size:0.85em;color:#334155";
    var chosen = KINDS.filter(function (k) { return k.id === state.your_reaction; })[0];
    status.textContent = state.total.toLocaleString() + " reactions" +
      (chosen ? " · yours: " + chosen.label : "");
    el.appendChild(status);
  }

  function fail(el, message) {
    el.setAttribute("data-reactions-error", message);
  }

  /* POST a JSON body as text/plain: a "simple" cross-origin request, so the browser sends it
     without a CORS preflight and the page view costs the origin one request. */
  function send(path, body) {
    return fetch(base + path, {
      method: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body)
    }).then(answer);
  }

  function answer(r) {
    return r.json().then(function (state) {
      if (!r.ok || state.error) { throw new Error(state.error || String(r.status)); }
      return state;
    });
  }

  /* The reader's own reaction as their last tap's answer said: shown over the public counts
     (which a cache may serve a few seconds old) so they never hide the reader's choice. */
  function keptKey(id) { return "reactions-mine:" + id; }

  function keep(id, kind) {
    try {
      if (kind) { localStorage.setItem(keptKey(id), kind); }
      else { localStorage.removeItem(keptKey(id)); }
    } catch (e) { /* storage blocked: nothing to keep */ }
  }

  function kept(id) {
    try { return localStorage.getItem(keptKey(id)); } catch (e) { return null; }
  }

  /* One request per page view: the view (the denominator of the reaction rate, counted once
     per reader, article and day) answers with the bar. If it is refused (e.g. too many
     views from one network), the bar still shows, from the public counts. */
  function load(el) {
    var id = el.getAttribute("data-reactions-article");
    var reader = clientId();
    var body = { article_id: id };
    if (reader) { body.reader_id = reader; }
    send("/api/v1/views", body).then(function (state) {
      keep(id, state.your_reaction);
      render(el, state);
    }).catch(function () {
      fetch(base + "/api/v1/articles/" + encodeURIComponent(id) + "/reactions")
        .then(answer).then(function (state) {
          state.your_reaction = kept(id);
          render(el, state);
        }).catch(function (e) { fail(el, String(e.message || e)); });
    });
  }

  function tap(el, kind) {
    var id = el.getAttribute("data-reactions-article");
    var body = { article_id: id, kind: kind };
    var reader = clientId();
    if (reader) { body.reader_id = reader; }
    send("/api/v1/reactions", body).then(function (state) {
      keep(id, state.your_reaction);
      render(el, state);
    }).catch(function (e) { fail(el, String(e.message || e)); });
  }

  document.querySelectorAll("[data-reactions-article]").forEach(load);
})();
