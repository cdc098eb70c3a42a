"""`python -m ui` / `rag-chat`: set up (model, index) and serve the chat, the API and the widget."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from rag.config import Settings
from rag.errors import RagError

log = logging.getLogger("ui")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m ui",
        description="Start the browser chat, the JSON API (/docs) and the widget (/widget.js) on one "
        "server. Provisions the offline model and builds a missing index first (with progress).",
    )
    p.add_argument("--host", help="interface to listen on (RAG_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (RAG_PORT, default 7860)")
    p.add_argument("--seeds", help="articles folder to index at start (RAG_SEEDS_DIR, default ./seeds)")
    p.add_argument("--no-index", action="store_true", help="serve the existing index without updating it")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return serve(Settings.from_env(host=args.host, port=args.port, seeds_dir=args.seeds), not args.no_index)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def serve(settings: Settings, update_index: bool = True) -> int:
    import uvicorn

    from rag.pipeline import Assistant
    from rag.setup import set_up
    from ui.server import build_app

    t0 = time.perf_counter()
    assistant = Assistant(settings)
    report = set_up(assistant, update_index=update_index, progress=True).report
    for path, why in report.failed.items() if report else ():
        log.warning("skipped %s: %s", path, why)
    chunks = len(assistant.retriever.chunks)  # loads the model and the index now, not on the first question
    assistant.generator()  # builds the default generator (the LLM loads its model here), not on the first question
    app = build_app(assistant)
    log.info(
        "ready after %.1f s: %d passages in %s; http://%s:%d/ (API docs at /docs)",
        time.perf_counter() - t0,
        chunks,
        settings.data_dir,
        settings.host,
        settings.port,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
