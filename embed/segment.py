"""Chinese-aware words for explanations, keywords, facets and highlighting.

`Segmenter` turns text into the terms an explanation marks and shares (the lexical channel
itself ranks by character n-grams: `embed.lexical_index`). It owns a private
`jieba.Tokenizer`, loaded lazily with a technical glossary (`embed/data/glossary.txt`) plus the
caller's terms, so nothing another library does to jieba's global state changes our tokens.

Pipeline for one text:
1. NFKC-normalise (full-width ＯＬＥＤ → OLED, ０.１ → 0.1, ㎜ → mm).
2. One regex pass finds identifiers and runs of Han characters; everything else (punctuation,
   whitespace) is a separator. Identifiers — IPC codes (H01L21/027, G06F 16/35), patent numbers
   (CN114081026A), standards (GB/T 19001-2016, ISO 9001), model numbers and quantities (TD-LTE,
   Ti-6Al-4V, PM2.5, 0.0001mm, 28nm, 5G) — become one token each, lower-cased, internal
   whitespace removed, so "G06F 16/35" and "g06f16/35" are the same term.
3. Han runs are cut by jieba with HMM off. HMM would guess new words from character statistics;
   its guesses depend on context ("前提二为"), so a query and a document containing the same
   term could be cut differently, and its force-split table (`jieba.finalseg`) is module-global,
   which would break our isolation. Out-of-vocabulary terms are covered by the bigram channel
   instead, and the cut is about a third faster without it.
4. Stopwords (`embed/data/stopwords.txt`: function words, patent boilerplate) are dropped.

A glossary term is coarser than what plain jieba would give (高温合金 instead of 高温/合金), so
`sparse_terms` also emits its parts: how the base dictionary cuts it, and the other glossary terms
inside it (协同萃取 → 协同, 萃取). The word channel thus keeps plain jieba's recall and gains the
whole term's precision.
"""

from __future__ import annotations

import html
import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path

import jieba

DATA_DIR = Path(__file__).parent / "data"
GLOSSARY_PATH = DATA_DIR / "glossary.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"

BIGRAM_MARK = "§"
"""Prefix of a bigram in `sparse_terms`: bigram "光刻" and word "光刻" are distinct terms."""

# A user term gets at least this frequency (jieba's dictionary totals ~60M; a common word like
# 技术 has ~38k). suggest_freq alone only makes the term win when it stands alone; in running
# text a neighbouring word can still pull it apart (智能控制技术 → 智能/控制技术). On the BDCI
# abstracts 2000 keeps most occurrences whole while rarely overriding a better split.
_MIN_TERM_FREQ = 2000

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_ALNUM = "A-Za-z0-9\u00b5\u03bc\u03a9"  # µ, μ, Ω appear in units (μm, kΩ)
_STANDARD = (
    r"(?:GB/T|GB/Z|GB|JB/T|HG/T|YS/T|SJ/T|QC/T|YY/T|YY|DL/T|NB/T|HJ|T/[A-Z]{2,8}"
    r"|ISO/IEC|ISO/TS|ISO|IEC|IEEE|ASTM|DIN|JIS|EN|ANSI|SAE|UL)"
    r"\s*[A-Z]?\d+(?:[.\-:/][0-9A-Z]+)*"
)
_IPC = r"[A-H]\d{2}[A-Z]\s*\d{1,4}/\d{1,6}"
_PATENT = r"(?:CN|ZL|US|EP|WO|JP|KR|DE|TW)\s*\d{6,}(?:[./]\d+)*(?:\s*[A-Z]\d?)?"
_GENERIC = rf"[{_ALNUM}]+(?:[.\-_/:&][{_ALNUM}]+)*(?:\+\+|#)?"
_TOKEN_RE = re.compile(
    rf"(?P<id>(?<![{_ALNUM}])(?:{_STANDARD}|{_IPC}|{_PATENT})(?![{_ALNUM}])|{_GENERIC})"
    rf"|(?P<han>[{_HAN}]+)",
    re.IGNORECASE,
)
_HAN_TERM_RE = re.compile(rf"[{_HAN}]+")
_HAS_ALNUM_RE = re.compile(rf"[{_ALNUM}]")


def read_term_file(path: Path) -> list[str]:
    """Terms of a one-per-line file; blank lines and `#` comments skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


@cache
def glossary_terms() -> tuple[str, ...]:
    """The shipped technical glossary, in file order."""
    return tuple(read_term_file(GLOSSARY_PATH))


@cache
def default_stopwords() -> frozenset[str]:
    """The shipped stopword list (lower case)."""
    return frozenset(read_term_file(STOPWORDS_PATH))


@cache
def _idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table and its median, read directly (importing jieba.analyse loads two)."""
    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"
    idf: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.strip().partition(" ")
        if value:
            idf[word] = float(value)
    return idf, sorted(idf.values())[len(idf) // 2]


def term_surface(term: str) -> str:
    """The text a sparse term stands for: a bigram loses its `BIGRAM_MARK`."""
    return term.removeprefix(BIGRAM_MARK)


class Segmenter:
    """Deterministic tokens for Chinese technical text (see module docstring).

    `extra_terms` join the glossary in the private jieba dictionary; pass atomic terms (电主轴),
    not phrases, because a dictionary word hides its parts from the word channel. Only pure-Han
    terms matter: Latin identifiers are kept whole by rule. `stopwords=None` uses the shipped
    list; any iterable replaces it (pass `()` to keep everything). `cache_dir` holds jieba's
    prefix-dictionary cache (default: a folder of this user's in the temp dir, mode 0700: jieba
    `marshal`-loads the cache, so a world-writable location would let another user run code).
    jieba loads on first use (~1 s) and is shared by segmenters with the same terms.
    """

    def __init__(
        self,
        extra_terms: Iterable[str] = (),
        stopwords: Iterable[str] | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        terms = {t.strip() for t in (*glossary_terms(), *extra_terms)}
        self._terms = tuple(sorted(t for t in terms if _HAN_TERM_RE.fullmatch(t)))
        self._stopwords = (
            default_stopwords() if stopwords is None else frozenset(s.lower() for s in stopwords)
        )
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._loaded: tuple[jieba.Tokenizer, dict[str, tuple[str, ...]]] | None = None

    def words(self, text: str) -> list[str]:
        """Words and identifiers of `text`, stopwords and punctuation removed."""
        return [token for _, token in self._scan(text, bigrams=False)]

    def bigrams(self, text: str) -> list[str]:
        """Overlapping character bigrams of each Han run (a one-character run gives itself).

        They match terms the dictionary does not know, and parts of long words.
        Bigrams across a function word (胶的) are kept: IDF discounts the common ones.
        """
        return [token for _, token in self._scan(text, words=False)]

    def sparse_terms(self, text: str) -> list[str]:
        """The terms explanations match on: `words` with the parts of glossary terms, followed by
        `BIGRAM_MARK`-prefixed `bigrams`.

        Marking keeps the two channels' statistics apart: an unmarked bigram would double the
        weight of every two-character word (counted once as a word, once as a bigram) and blur
        its IDF with accidental cross-word bigrams. Explanations strip the mark (`term_surface`).
        """
        words: list[str] = []
        bigrams: list[str] = []
        for kind, token in self._scan(text, parts=True):
            if kind == "bigram":
                bigrams.append(BIGRAM_MARK + token)
            else:
                words.append(token)
        return words + bigrams

    def keywords(self, text: str, k: int = 10) -> list[str]:
        """The `k` highest TF-IDF words of `text` (jieba's IDF table; 2+ characters, not bare
        numbers).

        Same scoring as `jieba.analyse.TFIDF.extract_tags`, but over `words`, so identifiers stay
        whole and our stopwords apply; words missing from the table get its median IDF. Ties keep
        first-occurrence order.
        """
        counts = Counter(
            w for w in self.words(text) if len(w) >= 2 and not w.replace(".", "").isdigit()
        )
        idf, median = _idf_table()
        ranked = sorted(counts, key=lambda w: -counts[w] * idf.get(w, median))
        return ranked[:k]

    @staticmethod
    def highlight(
        text: str, terms: Iterable[str], open: str = "<mark>", close: str = "</mark>"
    ) -> str:
        """HTML of `text` with each occurrence of `terms` wrapped in `open` … `close`.

        Case-insensitive; longer terms win, matches never overlap; identifiers match across
        whitespace (g06f16/35 marks "G06F 16/35"). Everything outside the markers is escaped.
        """
        surfaces = {term_surface(t).strip() for t in terms} - {""}
        if not surfaces:
            return html.escape(text)
        ordered = sorted(surfaces, key=lambda t: (-len(t), t))
        pattern = re.compile("|".join(_highlight_pattern(t) for t in ordered), re.IGNORECASE)
        parts: list[str] = []
        end = 0
        for match in pattern.finditer(text):
            parts += [html.escape(text[end : match.start()]), open, html.escape(match[0]), close]
            end = match.end()
        parts.append(html.escape(text[end:]))
        return "".join(parts)

    def _scan(
        self, text: str, words: bool = True, parts: bool = False, bigrams: bool = True
    ) -> Iterator[tuple[str, str]]:
        """("word" | "part" | "bigram", token) pairs in text order, for the kinds asked."""
        tokenizer, parts_of = self._dictionary() if words else (None, {})
        stop = self._stopwords
        for match in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", text)):
            token = match[0]
            if match.lastgroup == "id":
                token = "".join(token.split()).lower()
                if words and token not in stop:
                    yield "word", token
                continue
            if tokenizer is not None:
                for word in tokenizer.cut(token, HMM=False):
                    if word not in stop:
                        yield "word", word
                        if parts:
                            extra = parts_of.get(word, ())
                            yield from (("part", p) for p in extra if p not in stop)
            if not bigrams:
                continue
            if len(token) == 1:
                if token not in stop:
                    yield "bigram", token
            else:
                for i in range(len(token) - 1):
                    yield "bigram", token[i : i + 2]

    def _dictionary(self) -> tuple[jieba.Tokenizer, dict[str, tuple[str, ...]]]:
        if self._loaded is None:
            with _LOAD_LOCK:
                self._loaded = _load_dictionary(self._terms, self._cache_dir)
        return self._loaded


_LOAD_LOCK = threading.Lock()


def _private_folder(cache_dir: Path | None) -> Path:
    """`cache_dir`, or `<tmp>/jiebang-<uid>`, refused unless it is ours and closed to others."""
    folder = cache_dir or Path(tempfile.gettempdir()) / f"jiebang-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PermissionError(f"{folder} is not private to this user; refusing its jieba cache")
    return folder


@lru_cache(maxsize=4)
def _load_dictionary(
    terms: tuple[str, ...], cache_dir: Path | None
) -> tuple[jieba.Tokenizer, dict[str, tuple[str, ...]]]:
    """A private jieba tokenizer knowing `terms`, and each term's parts of 2+ characters.

    Cached because loading takes about a second; segmenters with the same terms share the
    result, which is never modified after this function returns.
    """
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(_private_folder(cache_dir))
    logger = logging.getLogger("jieba")
    level = logger.level
    logger.setLevel(logging.WARNING)  # silence "Building prefix dict …" without muting it for good
    try:
        tokenizer.initialize()
    finally:
        logger.setLevel(level)
    # Frequencies and parts come from the base dictionary before any term is added, so neither
    # depends on the order of the terms.
    freqs = {t: max(tokenizer.suggest_freq(t), _MIN_TERM_FREQ) for t in terms}
    parts: dict[str, tuple[str, ...]] = {}
    for term in terms:
        found = {p for p in tokenizer.cut(term, HMM=False) if len(p) > 1}
        found |= {other for other in terms if other in term}
        found.discard(term)
        if found:
            parts[term] = tuple(sorted(found, key=lambda p: (term.index(p), -len(p))))
    for term, freq in freqs.items():
        tokenizer.add_word(term, freq)
    return tokenizer, parts


def _highlight_pattern(term: str) -> str:
    if not _HAS_ALNUM_RE.search(term):
        return re.escape(term)
    # Identifiers were normalised without whitespace; let the text have it back. Alphanumeric
    # edges must not touch more letters or digits, so "5g" does not mark "15G" or "5GHz".
    body = r"\s*".join(re.escape(ch) for ch in term)
    before = rf"(?<![{_ALNUM}])" if _HAS_ALNUM_RE.match(term[0]) else ""
    after = rf"(?![{_ALNUM}])" if _HAS_ALNUM_RE.match(term[-1]) else ""
    return before + body + after
