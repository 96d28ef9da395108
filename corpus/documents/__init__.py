"""Bring-your-own files: challenge lists and tables from workbooks, Word files and PDFs.

Each module turns one kind of input into plain records and is small enough to read at once:

- `formats`: which format a file is (suffix checked against its first bytes);
- `errors`: `Location` (sheet, page, table, row, item) and `DocumentError`, one line each;
- `xlsx`, `docx`, `pdf`: the file's sheets, or its tables and paragraphs (`content`);
- `tables`: the header of a table (two-row merged headers included) and its named rows;
- `numbered`: the items of a numbered list in prose;
- `challenges`: `read_challenge_items(path)` → `ChallengeItem`s with stable ids.

Import from the modules themselves: `corpus.loaders` uses `errors`, `tables` and `xlsx`, and
`challenges` uses `corpus.loaders`, so this package imports nothing on its own.

`corpus.loaders.iter_rows` reads workbooks through `xlsx` and `tables`, so organisations and
patents load from .xlsx like from CSV.
"""
