"""A small review for the review workspace's tests: three queued records, two included
studies, an extraction table and the config, under a temporary repository folder."""

from __future__ import annotations

from pathlib import Path

from livingmeta.screening.queue import append_to_queue
from tests.test_screening_cli import cand as candidate

CONFIG = """\
reviews:
  - id: demo
    title: Demo review
    screening:
      exclusion_reasons: [wrong population, wrong design]
    outcomes:
      - name: death
        label: Death
      - name: nihss
        label: NIHSS at 24 h
        type: continuous
        measure: MD
        method: IV
"""
STUDIES = "study_id,study_label,year,record_ids\nsmith2021,Smith 2021,2021,pubmed:11\nwang2023,Wang 2023,2023,pubmed:12\n"
EXTRACTION_HEADER = (
    "study_id,study_label,year,outcome,events_treat,total_treat,events_ctrl,total_ctrl,"
    "mean_treat,sd_treat,n_treat,mean_ctrl,sd_ctrl,n_ctrl,subgroup,source,extractor,"
    "second_extractor,approved_by,approved_on,notes\n"
)
#: Characteristics fields for the config of :func:`make_repo` (added before ``outcomes``).
CHARACTERISTICS_FIELDS = """\
    characteristics:
      fields:
        - {name: design, label: Design, kind: choice, choices: [RCT, cohort]}
        - {name: age, label: "Age, years, mean (SD)", kind: mean_sd, level: arm}
"""
CHARACTERISTICS_HEADER = (
    "study_id,field,arm,kind,value,spread,low,high,total,percent,text,reported,footnote,"
    "source,extractor,approved_by,approved_on,notes\n"
)
HOSTILE_TITLE = "Stenting <script>alert(1)</script> trial \u202eexe.pdf"


def make_repo(root: Path) -> Path:
    """Write the review under ``root`` (the folder the app runs from); returns ``root``."""
    (root / "config").mkdir(parents=True)
    (root / "config" / "config.yaml").write_text(CONFIG)
    folder = root / "reviews" / "demo"
    rows = [
        candidate("pubmed:1", title=HOSTILE_TITLE, dois=["10.1000/abc"], nct_ids=["NCT01234567"]),
        candidate("pubmed:2"),
        candidate("pubmed:3", status="linked_to_existing", existing_record_ids=["pubmed:11"]),
    ]
    append_to_queue(folder / "screening" / "queue.csv", rows, "run1")
    (folder / "studies.csv").write_text(STUDIES)
    (folder / "extraction.csv").write_text(EXTRACTION_HEADER)
    return root
