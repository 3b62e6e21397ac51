"""Links to PubMed, doi.org and ClinicalTrials.gov, built only from validated identifiers:
text from outside (titles, exported records) must never become an ``href``."""

from __future__ import annotations

import re
from urllib.parse import quote

_PMID = re.compile(r"^[0-9]{1,9}$")
_NCT = re.compile(r"^NCT[0-9]{8}$")
_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")
DOI_PREFIX = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)


def pubmed_url(pmid: str) -> str | None:
    """PubMed page of a PMID, or None when the text is not a PMID."""
    pmid = str(pmid).strip()
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if _PMID.match(pmid) else None


def doi_url(doi: str) -> str | None:
    """doi.org link of a DOI (``doi:`` and resolver prefixes removed, percent-encoded),
    or None when the text is not a DOI."""
    doi = DOI_PREFIX.sub("", str(doi).strip())
    return f"https://doi.org/{quote(doi, safe='/:;()._-')}" if _DOI.match(doi) else None


def ctgov_url(nct: str) -> str | None:
    """ClinicalTrials.gov page of an NCT number, or None when the text is not one."""
    nct = str(nct).strip().upper()
    return f"https://clinicaltrials.gov/study/{nct}" if _NCT.match(nct) else None
