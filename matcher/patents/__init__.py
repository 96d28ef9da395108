"""Patents in bulk: match many abstracts to the challenge catalogue, then read the result.

- `reader`: a streaming, row-by-row reader of JSONL/CSV patent files; bad rows become rejects.
- `calibration`: cosine → calibrated confidence, fitted offline (parameters only, see the module).
- `bulk`: batch-encodes patents and writes multi-label matches, checkpointed and resumable.
- `landscape`: patent navigation (专利导航) tables and charts per challenge and area.
- `roadmap`: capability coverage × patent activity → the seed's three batches, by data rules.
"""
