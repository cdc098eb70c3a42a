/* rag-assistant widget: <script src="http://HOST:PORT/widget.js" data-position="bottom-right"
   data-title="Fragen an die Artikel" data-lang="de" data-question="..."></script>
   Adds a chat bubble; the chat opens in an iframe served by the assistant (allowed origins only). */
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

  var button = document.createElement("button");
  button.id = "rag-widget-button";
  button.type = "button";
  button.title = title;
  button.setAttribute("aria-label", title);
  // A speech bubble drawn as SVG: emoji fonts are missing on many systems.
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "28");
  svg.setAttribute("height", "28");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("fill", "#fff");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  svg.appendChild(path);
  button.appendChild(svg);
  button.style.cssText = "position:fixed;" + side + ":20px;" + vert + ":20px;width:56px;height:56px;" +
    "border-radius:50%;border:none;background:#1f6feb;color:#fff;font-size:26px;cursor:pointer;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.3);z-index:2147483646";

  button.addEventListener("click", function () {
    if (frame) {
      frame.style.display = frame.style.display === "none" ? "block" : "none";
      return;
    }
    var params = new URLSearchParams({ lang: lang, title: title, q: d.question || "" });
    frame = document.createElement("iframe");
    frame.id = "rag-widget-frame";
    frame.title = title;
    frame.src = origin + "/widget?" + params.toString();
    frame.style.cssText = "position:fixed;" + side + ":20px;" + vert + ":86px;width:380px;height:540px;" +
      "max-width:calc(100vw - 40px);border:1px solid #ccc;border-radius:10px;background:#fff;" +
      "box-shadow:0 4px 16px rgba(0,0,0,.25);z-index:2147483647";
    document.body.appendChild(frame);
  });
  document.body.appendChild(button);
})();
