/* rag-assistant widget: <script src="http://HOST:PORT/widget.js" data-position="bottom-right"
   data-title="Fragen an die Artikel" data-lang="de" data-question="..."></script>
   Asks the assistant first whether this page may use it (a CORS request to /api/health); only then
   adds a chat bubble that opens the assistant in an iframe. Escape or the panel's close button close it. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src).origin;
  var d = script.dataset;
  var lang = d.lang === "en" ? "en" : "de";
  var title = d.title || (lang === "en" ? "Ask the articles" : "Fragen an die Artikel");
  var side = (d.position || "bottom-right").indexOf("left") >= 0 ? "left" : "right";
  var vert = (d.position || "bottom-right").indexOf("top") >= 0 ? "top" : "bottom";
  var frame = null;
  var button = null;

  function bubble() {
    var b = document.createElement("button");
    b.id = "rag-widget-button";
    b.type = "button";
    b.title = title;
    b.setAttribute("aria-label", title);
    b.setAttribute("aria-haspopup", "dialog");
    b.setAttribute("aria-expanded", "false");
    b.setAttribute("aria-controls", "rag-widget-frame");
    // A speech bubble drawn as SVG: emoji fonts are missing on many systems.
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("fill", "#fff");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    b.appendChild(svg);
    b.style.cssText = "position:fixed;" + side + ":20px;" + vert + ":20px;width:56px;height:56px;" +
      "border-radius:50%;border:none;background:#1f6feb;color:#fff;cursor:pointer;" +
      "box-shadow:0 2px 8px rgba(0,0,0,.3);z-index:2147483646";
    b.addEventListener("click", function () { if (isOpen()) { close(); } else { open(); } });
    return b;
  }

  // Focus goes into the panel's question box (the panel's own script takes it there when asked).
  function focusPanel() {
    frame.focus();
    frame.contentWindow.postMessage({ rag: "focus" }, origin);
  }

  function isOpen() { return frame !== null && frame.style.display !== "none"; }

  function open() {
    if (!frame) {
      var params = new URLSearchParams({ lang: lang, title: title, q: d.question || "", host: location.origin });
      frame = document.createElement("iframe");
      frame.id = "rag-widget-frame";
      frame.title = title;
      frame.src = origin + "/widget?" + params.toString();
      frame.style.cssText = "position:fixed;" + side + ":20px;" + vert + ":86px;width:380px;height:540px;" +
        "max-width:calc(100vw - 40px);max-height:calc(100vh - 106px);border:1px solid #ccc;border-radius:10px;" +
        "background:#fff;box-shadow:0 4px 16px rgba(0,0,0,.25);z-index:2147483647";
      frame.addEventListener("load", focusPanel);
      document.body.appendChild(frame);
    } else {
      frame.style.display = "block";
      focusPanel();
    }
    button.setAttribute("aria-expanded", "true");
  }

  function close() {
    if (!frame) { return; }
    frame.style.display = "none";
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  // The panel's close button and Escape inside the panel arrive as messages from the assistant's origin.
  window.addEventListener("message", function (ev) {
    if (frame && ev.origin === origin && ev.source === frame.contentWindow && ev.data && ev.data.rag === "close") {
      close();
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && isOpen()) { close(); }
  });

  fetch(origin + "/api/health", { mode: "cors", credentials: "omit" }).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    button = bubble();
    document.body.appendChild(button);
  }).catch(function () {
    console.warn("rag-assistant widget not shown: the assistant at " + origin + " does not answer pages from " +
      location.origin + ". Add " + location.origin + " to RAG_ALLOWED_ORIGINS on the assistant's server " +
      "(or start the server, if it is not running).");
  });
})();
