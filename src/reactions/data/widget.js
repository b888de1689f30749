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

  function render(el, state) {
    el.textContent = "";
    var title = document.createElement("h3");
    title.textContent = "What's Your Reaction?";
    title.style.margin = "0 0 8px";
    el.appendChild(title);
    var row = document.createElement("div");
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
  }

  function fail(el, message) {
    el.setAttribute("data-reactions-error", message);
  }

  function load(el) {
    var id = el.getAttribute("data-reactions-article");
    var reader = clientId();
    var url = base + "/api/v1/articles/" + encodeURIComponent(id) + "/reactions" +
      (reader ? "?reader_id=" + encodeURIComponent(reader) : "");
    fetch(url).then(function (r) { return r.json(); }).then(function (state) {
      if (state.error) { fail(el, state.error); return; }
      render(el, state);
      view(id, reader);
    }).catch(function (e) { fail(el, String(e)); });
  }

  /* The bar was shown: the denominator of the reaction rate (the server counts one view per
     reader, article and day, so reloads do not inflate it). */
  function view(id, reader) {
    var body = { article_id: id };
    if (reader) { body.reader_id = reader; }
    fetch(base + "/api/v1/views", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); })
      .catch(function () { /* a lost view must not disturb the reader */ });
  }

  function tap(el, kind) {
    var body = { article_id: el.getAttribute("data-reactions-article"), kind: kind };
    var reader = clientId();
    if (reader) { body.reader_id = reader; }
    fetch(base + "/api/v1/reactions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); }).then(function (state) {
      if (state.error) { fail(el, state.error); return; }
      render(el, state);
    }).catch(function (e) { fail(el, String(e)); });
  }

  document.querySelectorAll("[data-reactions-article]").forEach(load);
})();
