"""The chat's "Artikel" panel: the indexed articles, and with the admin token upload and delete.

Files go from the browser straight to `/api/documents` (a few lines of script below): Gradio's
own upload route stays closed (`ui.server.UPLOAD_ROUTES`), and the API checks token and size
before it reads a byte. The list is rendered here; the script asks for a new one after a change.
"""

from __future__ import annotations

import html
import json

import gradio as gr

from rag import documents
from rag.errors import IndexDamaged, StoreUnavailable
from rag.pipeline import Assistant
from ui.texts import DOCS, I18N, TEXT, megabytes

CSS = """
.docs-controls label { display: block; margin: 6px 0; }
.docs-table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.docs-table td, .docs-table th { padding: 3px 6px; border-bottom: 1px solid #ddd; text-align: left; }
#docs-results li.bad { color: #b00020; }
#docs-results li.ok { color: #1b5e20; }
"""

# Upload with progress (XMLHttpRequest reports bytes sent), then "indexing" until the answer.
JS = """<script>
(() => {
  const box = () => document.querySelector(".docs-controls");
  const texts = () => JSON.parse(box().dataset.texts);
  const fmt = (s, o) => s.replace(/\\{(\\w+)\\}/g, (m, k) => (k in o ? o[k] : m));
  function token() {
    const input = document.getElementById("docs-token");
    const v = input ? input.value.trim() : "";
    if (v) { sessionStorage.setItem("ragAdminToken", v); }
    return v || sessionStorage.getItem("ragAdminToken") || "";
  }
  const status = (text) => { const s = document.getElementById("docs-status"); if (s) { s.textContent = text; } };
  function results(items) {
    const ul = document.getElementById("docs-results");
    ul.replaceChildren(...items.map(([ok, text]) => {
      const li = document.createElement("li");
      li.className = ok ? "ok" : "bad";
      li.textContent = text;
      return li;
    }));
  }
  const refresh = () => { const b = document.getElementById("docs-refresh"); if (b) { b.click(); } };
  function upload() {
    const t = texts(), picker = document.getElementById("docs-files");
    const files = Array.from(picker.files), most = Number(box().dataset.maxFiles);
    if (!files.length) { return; }
    if (files.length > most) { results([[false, fmt(t.count, {n: files.length, count: most})]]); return; }
    const form = new FormData();
    files.forEach((f) => form.append("files", f, f.name));
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/documents");
    xhr.setRequestHeader("Authorization", "Bearer " + token());
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) { status(fmt(t.sending, {p: Math.round(100 * e.loaded / e.total)})); }
    };
    xhr.upload.onload = () => status(t.indexing);
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      status("");
      results(body.files ? body.files.map((f) => [f.ok, f.message]) : [[false, body.error || xhr.statusText]]);
      picker.value = "";
      refresh();
    };
    xhr.onerror = () => { status(""); results([[false, xhr.statusText || "network error"]]); };
    status(t.indexing);
    xhr.send(form);
  }
  async function remove(id) {
    const t = texts();
    status(t.deleting);
    const headers = {Authorization: "Bearer " + token()};
    const r = await fetch("/api/documents/" + encodeURIComponent(id), {method: "DELETE", headers});
    const body = await r.json().catch(() => ({}));
    status("");
    results([[r.ok, r.ok ? fmt(t.deleted, {name: body.title || id}) : (body.error || r.statusText)]]);
    refresh();
  }
  document.addEventListener("click", (e) => {
    if (!e.target.closest) { return; }
    if (e.target.closest("#docs-upload")) { upload(); }
    const del = e.target.closest(".docs-del");
    if (del) { remove(del.dataset.doc); }
  });
})();
</script>"""


def controls_html(assistant: Assistant, lang: str) -> str:
    """Token, file picker and upload button with the admin token set; else a note how to set it."""
    t = DOCS[lang]
    lim = documents.limits(assistant)
    admin = bool(assistant.settings.admin_token)
    attrs = f'data-admin="{int(admin)}" data-max-files="{lim.max_files}" data-texts="{html.escape(json.dumps(t))}"'
    if not admin:
        body = f'<p class="docs-note">{html.escape(t["read_only"])}</p>'
    else:
        choose = t["choose"].format(size=megabytes(lim.max_bytes, lang), count=lim.max_files)
        body = (
            f'<label>{html.escape(t["token"])} <input type="password" id="docs-token" autocomplete="off"></label>'
            f'<label>{html.escape(choose)} <input type="file" id="docs-files" multiple '
            f'accept="{",".join(lim.types)}"></label>'
            f'<button type="button" id="docs-upload" class="lg secondary">{html.escape(t["upload"])}</button>'
        )
    return (
        f'<div class="docs-controls" {attrs}>{body}'
        '<div id="docs-status" role="status" aria-live="polite"></div><ul id="docs-results"></ul></div>'
    )


def list_html(assistant: Assistant, lang: str) -> str:
    """The indexed articles as a table; with the admin token, each with a delete button."""
    t = DOCS[lang]
    try:
        articles = documents.list_articles(assistant)
    except (StoreUnavailable, IndexDamaged):
        return f"<p>{html.escape(TEXT[lang]['index_down'])}</p>"
    if not articles:
        return f'<p class="docs-empty">{html.escape(t["none"])}</p>'
    admin = bool(assistant.settings.admin_token)
    head = "".join(f"<th>{html.escape(t[k])}</th>" for k in ("title", "outlet", "date", "chunks"))
    rows = []
    for a in articles:
        cells = "".join(f"<td>{html.escape(str(v))}</td>" for v in (a.title or a.doc_id, a.outlet, a.date, a.chunks))
        button = (
            f'<td><button type="button" class="docs-del" data-doc="{html.escape(a.doc_id)}">'
            f"{html.escape(t['delete'])}</button></td>"
            if admin
            else ""
        )
        rows.append(f'<tr data-doc="{html.escape(a.doc_id)}">{cells}{button}</tr>')
    return f'<table class="docs-table"><tr>{head}{"<th></th>" if admin else ""}</tr>{"".join(rows)}</table>'


def build() -> tuple[gr.HTML, gr.HTML, gr.Button]:
    """The panel inside the current Blocks; returns its controls, its list and its refresh button."""
    with gr.Accordion(I18N("articles"), open=False, elem_id="docs"):
        controls = gr.HTML(elem_id="docs-controls")
        listing = gr.HTML(elem_id="docs-list")
        refresh = gr.Button(I18N("refresh"), elem_id="docs-refresh", size="sm")
    return controls, listing, refresh
