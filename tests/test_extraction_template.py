"""``template.csv``: the rows still to extract, in the data contract's column order
(treatment arm first), with the identifiers that find each study's paper."""

from __future__ import annotations

import pandas as pd

from livingmeta.approval import extraction_template
from livingmeta.outcomes import Outcome

OUTCOMES = {
    "death": Outcome("death", "Death"),
    "pain": Outcome("pain", "Pain", type="continuous", measure="MD", method="IV"),
}


def test_template_columns_follow_the_data_contract():
    studies = pd.DataFrame({"study_id": ["a"], "study_label": ["A 2001"], "year": ["2001"]})
    template = extraction_template(studies, pd.DataFrame(), OUTCOMES)
    assert list(template.columns) == [
        "study_id", "study_label", "year", "pmid", "doi", "nct_id", "outcome", "comparison",
        "events_treat", "total_treat", "events_ctrl", "total_ctrl",
        "mean_treat", "sd_treat", "n_treat", "mean_ctrl", "sd_ctrl", "n_ctrl",
        "reported", "subgroup", "source", "extractor", "second_extractor",
        "approved_by", "approved_on", "notes",
    ]  # fmt: skip
    assert template["outcome"].tolist() == ["death", "pain"]


def test_template_names_the_papers_of_each_study():
    studies = pd.DataFrame(
        {
            "study_id": ["a", "b"],
            "study_label": ["A 2001", "B 2002"],
            "year": ["2001", "2002"],
            "record_ids": ["pubmed:1; ctgov:NCT01", "pubmed:2"],
        }
    )
    queue = pd.DataFrame(
        {
            "record_id": ["pubmed:1", "ctgov:NCT01", "pubmed:2"],
            "pmids": ["111", "", "222"],
            "dois": ["10.1/x", "", ""],
            "nct_ids": ["NCT01", "NCT01", ""],
        }
    )
    extraction = pd.DataFrame({"study_id": ["b"], "outcome": ["death"]})
    template = extraction_template(studies, extraction, {"death": OUTCOMES["death"]}, queue)
    rows = template[["study_id", "pmid", "doi", "nct_id"]].values.tolist()
    assert rows == [["a", "111", "10.1/x", "NCT01"]]
