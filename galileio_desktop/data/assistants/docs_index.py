"""A folder of documents indexed for full-text search in SQLite FTS5, kept up to date cheaply.

Each refresh compares every supported file's size and modification time with what
was indexed and re-reads only the files that changed; files that disappeared are
dropped, files that cannot be read are remembered with their error (and retried
when they change). Ranking is FTS5's bm25 over passages, the passage text weighing
more than its heading. The index is a cache: it can be deleted at any time.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import private_file
from .docs_text import Passage, UnreadableDocument, read_passages, supported

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Words too common to say anything about what a passage is about.
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just let me more most my no nor not
    of off on once only or other our out over own same she should so some such than that the their them
    then there these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours""".split()
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    passages INTEGER NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_path ON passages (path);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5 (
    text, section, content='passages', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passages_fts (rowid, text, section) VALUES (new.id, new.text, new.section);
END;
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passages_fts (passages_fts, rowid, text, section)
    VALUES ('delete', old.id, old.text, old.section);
END;
"""


@dataclass
class RefreshStats:
    """What a refresh did, by relative path."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def read(self) -> list[str]:
        """The files that were (re-)read."""
        return self.added + self.updated


@dataclass(frozen=True)
class Hit:
    """A passage that matches a query; ``score`` is higher for better matches."""

    path: str
    section: str
    page: int | None
    text: str
    score: float


def match_expression(query: str) -> str | None:
    """An FTS5 query for free text: its words, quoted, any of them (bm25 ranks those
    matching more first). Common words are left out unless nothing else is left."""
    words = [w for w in re.findall(r"\w+", query.lower()) if w != "_"]
    useful = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    chosen = list(dict.fromkeys(useful or words))
    if not chosen:
        return None
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in chosen)


def query_terms(query: str) -> list[str]:
    """The words of a query that a quote should contain."""
    words = [w for w in re.findall(r"\w+", query.lower()) if w not in STOPWORDS and len(w) > 1]
    return list(dict.fromkeys(words))


class DocsIndex:
    """The search index of one documents folder, in one SQLite file."""

    def __init__(self, db_path: Path, root: Path) -> None:
        self.db_path = db_path
        self.root = root.expanduser().resolve()
        private_file(db_path)
        self._db = sqlite3.connect(db_path, timeout=10.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> DocsIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            # A cache from another version of the app: start over rather than guess.
            log.info("rebuilding the documents index (schema %s -> %s)", version, SCHEMA_VERSION)
            for table in ("passages_fts", "passages", "files", "meta"):
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        row = self._db.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
        if row is None or row[0] != str(self.root):
            with self._transaction():
                self._db.execute("DELETE FROM passages")
                self._db.execute("DELETE FROM files")
                self._db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('root', ?)", (str(self.root),)
                )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    # -- refreshing -----------------------------------------------------------------

    def scan(self, cancel: threading.Event | None = None) -> dict[str, os.stat_result]:
        """Supported files under the folder (hidden files and folders left out)."""
        found: dict[str, os.stat_result] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            if cancel is not None and cancel.is_set():
                break
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath, name)
                if name.startswith(".") or not supported(path):
                    continue
                try:
                    found[path.relative_to(self.root).as_posix()] = path.stat()
                except OSError as exc:
                    log.debug("cannot stat %s: %s", name, exc)
        return found

    def refresh(self, cancel: threading.Event | None = None) -> RefreshStats:
        """Bring the index up to date with the folder; stops early when ``cancel`` is set."""
        stats = RefreshStats()
        current = self.scan(cancel)
        if cancel is not None and cancel.is_set():
            return stats  # a partial scan must not be taken for removed files
        known = {
            row[0]: (row[1], row[2]) for row in self._db.execute("SELECT path, mtime_ns, size FROM files")
        }
        for rel in sorted(set(known) - set(current)):
            with self._transaction():
                self._db.execute("DELETE FROM passages WHERE path = ?", (rel,))
                self._db.execute("DELETE FROM files WHERE path = ?", (rel,))
            stats.removed.append(rel)
        for rel, st in current.items():
            if cancel is not None and cancel.is_set():
                break
            if known.get(rel) == (st.st_mtime_ns, st.st_size):
                stats.unchanged += 1
                continue
            passages, error = self._read(rel, st)
            with self._transaction():
                self._db.execute("DELETE FROM passages WHERE path = ?", (rel,))
                self._db.executemany(
                    "INSERT INTO passages (path, ordinal, section, page, text) VALUES (?, ?, ?, ?, ?)",
                    [(rel, i, p.section, p.page, p.text) for i, p in enumerate(passages)],
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO files (path, mtime_ns, size, passages, error) VALUES (?, ?, ?, ?, ?)",
                    (rel, st.st_mtime_ns, st.st_size, len(passages), error),
                )
            (stats.updated if rel in known else stats.added).append(rel)
            if error:
                stats.failed[rel] = error
        if stats.read or stats.removed:
            log.info(
                "documents index: %d read, %d removed, %d unchanged, %d unreadable",
                len(stats.read),
                len(stats.removed),
                stats.unchanged,
                len(stats.failed),
            )
        return stats

    def _read(self, rel: str, st: os.stat_result) -> tuple[list[Passage], str | None]:
        if st.st_size > MAX_FILE_BYTES:
            return [], f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"
        try:
            return read_passages(self.root / rel), None
        except UnreadableDocument as exc:
            log.warning("documents index: skipping %s", exc)
            return [], str(exc)

    # -- reading --------------------------------------------------------------------

    def file_count(self) -> int:
        """Files indexed with at least one passage."""
        return int(self._db.execute("SELECT count(*) FROM files WHERE passages > 0").fetchone()[0])

    def passage_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM passages").fetchone()[0])

    def search(self, query: str, limit: int = 4, per_file: int = 2) -> list[Hit]:
        """The best passages for ``query``, best first, at most ``per_file`` from one file."""
        expression = match_expression(query)
        if expression is None or limit <= 0:
            return []
        rows = self._db.execute(
            """
            SELECT p.path, p.section, p.page, p.text, bm25(passages_fts, 1.0, 0.5) AS rank
            FROM passages_fts JOIN passages AS p ON p.id = passages_fts.rowid
            WHERE passages_fts MATCH ?
            ORDER BY rank, p.path, p.ordinal
            LIMIT ?
            """,
            (expression, limit * 4),
        ).fetchall()
        hits: list[Hit] = []
        taken: dict[str, int] = {}
        for path, section, page, text, rank in rows:
            if taken.get(path, 0) >= per_file:
                continue
            taken[path] = taken.get(path, 0) + 1
            hits.append(Hit(path, section, page, text, round(-float(rank), 4)))
            if len(hits) >= limit:
                break
        return hits

    def iter_files(self) -> Iterator[tuple[str, int, str | None]]:
        """(relative path, passages, error) of every indexed file."""
        yield from self._db.execute("SELECT path, passages, error FROM files ORDER BY path")


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
