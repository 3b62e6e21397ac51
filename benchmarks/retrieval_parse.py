"""Benchmark: PubMed EFetch XML parsing, livingmeta's streaming parser vs ``Bio.Entrez.read``.

Why: a backfill of a broad living-review query can mean hundreds of thousands of PubMed
records; ``Entrez.read`` manages only a few hundred records per second and holds the whole
response in memory. This script builds a large ``PubmedArticleSet`` from the real recorded
EFetch responses in the shared corpus, times both parsers on it and reports their peak
memory, so regressions are visible.

Each parser runs in a fresh Python subprocess, so the peak resident memory it reports
(``ru_maxrss``) belongs to that parser alone (libxml2 allocates outside ``tracemalloc``'s
view). ``Entrez.read`` is timed on a smaller sample by default (``--entrez-n``) and its rate
is extrapolated; the output says when that happened.

Usage::

    python benchmarks/retrieval_parse.py [--n 20000] [--corpus DIR] [--out FILE]
                                         [--entrez-n 2000] [--repeat 1] [--skip-xml]

It also times RIS parsing (``livingmeta.retrieval.importers.parse_ris`` against rispy) on a
``--ris-n``-record file built from the real exports in ``fixtures/exports`` and prints
``ris_parse_records_per_second=<n>`` (and the same per CPU second,
``ris_parse_cpu_records_per_second``) and ``rispy_records_per_second=<n>`` (a living review
imports database exports of tens of thousands of records at a time). ``--skip-xml`` times
RIS parsing only.

The last two lines are ``parse_records_per_second=<n>`` and
``entrez_read_records_per_second=<n>``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "fixtures" / "pubmed_corpus"
DEFAULT_EXPORTS = REPO_ROOT.parent / "shared" / "fixtures" / "exports"
HEADER = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    b"<PubmedArticleSet>\n"
)
FOOTER = b"</PubmedArticleSet>\n"

# Run in a child interpreter: parse FILE with the named parser, print JSON stats.
# Imports happen before the clock starts: only parsing is timed.
_CHILD = r"""
import json, resource, sys, time
kind, path = sys.argv[1], sys.argv[2]
if kind == "livingmeta":
    from livingmeta.retrieval.pubmed_xml import iter_pubmed_records
    start = time.perf_counter()
    count = sum(1 for _ in iter_pubmed_records(path))
else:
    from Bio import Entrez
    start = time.perf_counter()
    with open(path, "rb") as handle:
        count = len(Entrez.read(handle)["PubmedArticle"])
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"count": count, "seconds": seconds, "peak_mib": peak_kib / 1024}))
"""


def load_articles(corpus: Path) -> list[bytes]:
    """Serialised ``PubmedArticle`` elements of every corpus file, in file-name order.

    Parsed with entity resolution and network access off, like the parser under test.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    articles: list[bytes] = []
    for path in sorted(corpus.glob("*.xml")):
        root = etree.parse(str(path), parser).getroot()
        articles.extend(
            etree.tostring(elem, encoding="utf-8", with_tail=False)
            for elem in root.iterfind("PubmedArticle")
        )
    if not articles:
        raise SystemExit(f"no PubmedArticle elements found under {corpus}")
    return articles


def build_file(articles: Sequence[bytes], n: int, out: Path) -> int:
    """Write an ``n``-record PubmedArticleSet cycling through ``articles``; return its size."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        handle.write(HEADER)
        for article in itertools.islice(itertools.cycle(articles), n):
            handle.write(article)
            handle.write(b"\n")
        handle.write(FOOTER)
    return out.stat().st_size


def run_child(kind: str, path: Path) -> dict[str, float]:
    """Parse ``path`` with ``kind`` in a fresh interpreter and return its stats."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def best_of(kind: str, path: Path, repeat: int) -> dict[str, float]:
    """Fastest of ``repeat`` runs (the least disturbed by other load on the machine)."""
    runs = [run_child(kind, path) for _ in range(max(1, repeat))]
    return min(runs, key=lambda run: run["seconds"])


def ris_text(exports: Path, n: int) -> str:
    """An ``n``-record RIS text cycling through the records of every real RIS export."""
    records: list[str] = []
    for path in sorted(exports.glob("ris_*")):
        text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        records += re.findall(r"^TY  - .*?^ER  -[^\n]*\n", text, re.DOTALL | re.MULTILINE)
    if not records:
        raise SystemExit(f"no RIS records found under {exports}")
    return "\n".join(itertools.islice(itertools.cycle(records), n))


def time_ris(exports: Path, n: int, repeat: int) -> dict[str, float]:
    """Records per second of ``parse_ris`` and of ``rispy.loads`` on the same text."""
    import rispy

    from livingmeta.retrieval.importers import parse_ris

    text = ris_text(exports, n)
    rates, cpu_rates = {}, {}
    for name, parse in (
        ("ours", lambda: parse_ris(text, "bench")),
        ("rispy", lambda: rispy.loads(text)),
    ):
        best = best_cpu = float("inf")
        for _ in range(max(1, repeat)):
            start, start_cpu = time.perf_counter(), time.process_time()
            count = len(parse())
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        if count != n:
            raise SystemExit(f"{name} read {count} RIS records, expected {n}")
        rates[name], cpu_rates[name] = n / best, n / best_cpu
    # CPU time as well as wall time: on a shared machine the wall time mostly measures
    # the other processes.
    print(
        f"RIS: livingmeta parse_ris {rates['ours']:,.0f} records/s "
        f"({cpu_rates['ours']:,.0f} per CPU second), rispy {rates['rispy']:,.0f} records/s "
        f"({cpu_rates['rispy']:,.0f} per CPU second) ({n} records from {exports})"
    )
    print(f"ris_parse_cpu_records_per_second={cpu_rates['ours']:.0f}")
    print(f"ris_parse_records_per_second={rates['ours']:.0f}")
    print(f"rispy_records_per_second={rates['rispy']:.0f}")
    return {
        "ris_parse_records_per_second": rates["ours"],
        "ris_parse_cpu_records_per_second": cpu_rates["ours"],
        "rispy_records_per_second": rates["rispy"],
    }


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="records in the test file")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=None, help="keep the test file here")
    parser.add_argument(
        "--entrez-n",
        type=int,
        default=2_000,
        help="records for the Entrez.read run (0 = same file as the parser)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per parser; best is kept")
    parser.add_argument("--ris-n", type=int, default=20_000, help="records in the RIS test")
    parser.add_argument("--exports", type=Path, default=DEFAULT_EXPORTS)
    parser.add_argument("--skip-xml", action="store_true", help="time RIS parsing only")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Build the test file, time both parsers, print a report; return the key figures."""
    args = _parse_args(argv)
    ris = time_ris(args.exports, args.ris_n, max(3, args.repeat))
    if args.skip_xml:
        return ris
    articles = load_articles(args.corpus)
    with tempfile.TemporaryDirectory(prefix="livingmeta-bench-") as tmp:
        big = args.out or Path(tmp) / f"pubmed_{args.n}.xml"
        size = build_file(articles, args.n, big)
        print(f"corpus: {len(articles)} distinct PubmedArticle elements from {args.corpus}")
        print(f"test file: {big} ({args.n} records, {size / 2**20:.1f} MiB)")

        ours = best_of("livingmeta", big, args.repeat)
        if ours["count"] != args.n:
            raise SystemExit(f"livingmeta parsed {ours['count']} records, expected {args.n}")
        ours_rate = ours["count"] / ours["seconds"]
        print(
            f"livingmeta iter_pubmed_records: {ours['count']} records in "
            f"{ours['seconds']:.2f} s = {ours_rate:,.0f} records/s, "
            f"{size / 2**20 / ours['seconds']:.0f} MiB/s, peak RSS {ours['peak_mib']:.0f} MiB"
        )

        entrez_n = args.n if args.entrez_n <= 0 else min(args.entrez_n, args.n)
        sample = big
        if entrez_n != args.n:
            sample = Path(tmp) / f"pubmed_{entrez_n}.xml"
            build_file(articles, entrez_n, sample)
        theirs = best_of("entrez", sample, args.repeat)
        theirs_rate = theirs["count"] / theirs["seconds"]
        note = (
            f" (timed on a {entrez_n}-record sample; extrapolated to {args.n} records: "
            f"~{args.n / theirs_rate:.0f} s)"
            if entrez_n != args.n
            else ""
        )
        print(
            f"Bio.Entrez.read: {theirs['count']} records in {theirs['seconds']:.2f} s = "
            f"{theirs_rate:,.0f} records/s, peak RSS {theirs['peak_mib']:.0f} MiB{note}"
        )
        print(f"speed-up: {ours_rate / theirs_rate:.1f}x")
        print(f"parse_records_per_second={ours_rate:.0f}")
        print(f"entrez_read_records_per_second={theirs_rate:.0f}")
    return {
        **ris,
        "parse_records_per_second": ours_rate,
        "entrez_read_records_per_second": theirs_rate,
        "parse_peak_mib": ours["peak_mib"],
        "entrez_peak_mib": theirs["peak_mib"],
    }


if __name__ == "__main__":
    main()
