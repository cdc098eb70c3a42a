"""Browser chat (Gradio), HTTP API and embeddable widget: a thin layer over `rag`'s public API."""
