"""Retrieval benchmarks: PubMed XML parsing vs Bio.Entrez.read, deduplication of 100,000
records, and the HTTP requests a 50,000-record PubMed backfill needs.

Ends with the lines ``parse_records_per_second=<n>``, ``entrez_read_records_per_second=<n>``
and ``dedup_100k_seconds=<n>`` (the parts can be run alone: ``retrieval_parse.py``,
``retrieval_dedup.py``).

Usage: python benchmarks/retrieval.py [--n 20000] [--records 100000] [--backfill 50000]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import retrieval_dedup  # noqa: E402
import retrieval_parse  # noqa: E402

from livingmeta.retrieval.eutils import EFETCH_BATCH, ESEARCH_CAP, EutilsClient, EutilsConfig  # noqa: E402
from livingmeta.retrieval.http import HttpTransport, RateLimiter  # noqa: E402
from tests.fakeserver import FakeServer, PubmedCorpus, Reply  # noqa: E402


def backfill_requests(n_records: int, years: int = 10, seed: int = 7) -> dict[str, int]:
    """Count the requests the PubMed client sends for an ``n_records`` backfill window,
    against a local fake PubMed with the real 9,999-ID cap (EFetch answered empty: only
    the number of POST batches matters here)."""
    rng = random.Random(seed)
    start = date(2015, 1, 1)
    crdt = {
        str(30_000_000 + i): start + timedelta(days=rng.randrange(365 * years))
        for i in range(n_records)
    }
    with FakeServer() as server:
        corpus = PubmedCorpus(crdt)
        server.route("/esearch.fcgi", corpus.esearch)
        server.route("/efetch.fcgi", lambda r: Reply.xml(b"<PubmedArticleSet></PubmedArticleSet>"))
        transport = HttpTransport("pubmed", rate_limiter=RateLimiter(1e6, sleep=lambda s: None))
        client = EutilsClient(EutilsConfig(base_url=server.url), transport=transport)
        result = client.search_window("benchmark", start, start + timedelta(days=365 * years))
        esearch = len(server.requests_to("/esearch.fcgi"))
    efetch = math.ceil(len(result.pmids) / EFETCH_BATCH)
    return {
        "esearch": esearch,
        "efetch": efetch,
        "total": esearch + efetch,
        "minimum_esearch": math.ceil(n_records / ESEARCH_CAP),
        "minimum_efetch": math.ceil(n_records / 10_000),
        "pmids": len(result.pmids),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="records in the parse test file")
    parser.add_argument("--records", type=int, default=100_000, help="records to deduplicate")
    parser.add_argument("--backfill", type=int, default=50_000, help="records in the backfill")
    args = parser.parse_args(argv)

    print("== parsing PubMed XML ==")
    parse = retrieval_parse.main(["--n", str(args.n)])
    print("\n== deduplication ==")
    dedup_seconds = retrieval_dedup.main(["--records", str(args.records)])
    print("\n== HTTP requests for a PubMed backfill ==")
    counts = backfill_requests(args.backfill)
    minimum = counts["minimum_esearch"] + counts["minimum_efetch"]
    print(
        f"{counts['pmids']} PMIDs: {counts['esearch']} ESearch + {counts['efetch']} EFetch POSTs "
        f"(200 PMIDs each, NCBI's advice) = {counts['total']} requests; the API limits allow "
        f"{minimum} at the least ({counts['minimum_esearch']} searches of 9,999 IDs, "
        f"{counts['minimum_efetch']} fetches of 10,000); at 3 requests/s without a key that is "
        f"{counts['total'] / 3:.0f} s, at 10/s with one {counts['total'] / 10:.0f} s"
    )
    print(f"parse_records_per_second={parse['parse_records_per_second']:.0f}")
    print(f"entrez_read_records_per_second={parse['entrez_read_records_per_second']:.0f}")
    print(f"dedup_100k_seconds={dedup_seconds:.2f}")


if __name__ == "__main__":
    main()
