"""Speed, not quality: the performance benchmark (`python -m eval.bench`), its LangChain peer, the
fresh-process probe, synthetic corpora for scale, and the embedding backends side by side."""
