"""Opt-in checks against the real PubMed and ClinicalTrials.gov APIs.

Skipped unless pytest is run with ``--run-network`` (never in CI, which has no internet):
they confirm that the recorded formats the other tests rely on still match the services.
"""

from __future__ import annotations

from datetime import date

import pytest

from livingmeta.retrieval.ctgov import CtgovClient
from livingmeta.retrieval.eutils import EutilsClient, EutilsConfig

pytestmark = pytest.mark.network


def test_pubmed_window_search_and_fetch():
    client = EutilsClient(EutilsConfig.from_env())
    result = client.search_window(
        '"rescue stenting"[tiab] AND thrombectomy[tiab]', date(2019, 1, 1), date(2019, 12, 31)
    )
    assert result.count == len(result.pmids) > 0
    fetched = client.efetch(result.pmids[:5])
    assert {r.pmid for r in fetched.records} == set(result.pmids[:5])
    assert all(r.title for r in fetched.records)


def test_ctgov_version_and_search():
    client = CtgovClient()
    assert client.version().data_timestamp
    result = client.search(
        cond="stroke", intr="stent", term="rescue", since=date(2024, 1, 1), until=date(2024, 12, 31)
    )
    assert result.total_count == len(result.records)
    assert all(r.record_id.startswith("ctgov:NCT") for r in result.records)
