"""Every file the project writes for people: rankings, bulk matches, landscapes, roadmaps.

One place for output: `cells` makes any text safe in a spreadsheet (formula injection, illegal
characters), `tables` renders CSV and XLSX through it, and every file lands through
`corpus.files.atomic_write`. `matcher/` only returns models; these modules turn them into bytes.
"""
