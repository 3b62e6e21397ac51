"""Screening: the queue of candidates, reviewers' decisions, their states and the studies.

Why a package of its own: screening is where people meet the workflow. The files that
reviewers edit (``decisions.csv``, ``studies.csv``) are plain CSV in the review folder and
the workflow only ever *appends* to them, so nothing a person typed is rewritten.

Files of a review folder ``reviews/<id>/`` (schemas in ``livingmeta/schemas/``):

``screening/queue.csv``
    Machine-appended: one row per candidate handed over by retrieval (key ``record_id``).
``screening/decisions.csv``
    One row per reviewer x record x stage (``livingmeta screen`` appends to it).
``studies.csv``
    Included studies, appended when a report is included at full text.

Words: a *stage* is ``title_abstract`` or ``full_text``; a record's *state* at a stage is
``included``, ``excluded``, ``conflict`` or ``pending``.
"""

from __future__ import annotations

#: Screening stages in the order a record passes them.
STAGES = ("title_abstract", "full_text")
#: What a reviewer can decide.
DECISIONS = ("include", "exclude", "maybe")
#: ``independent`` decisions are compared; a ``consensus`` decision settles the stage.
ROLES = ("independent", "consensus")
#: States of a record at a stage.
STATES = ("included", "excluded", "conflict", "pending")
#: Queue ``status`` of a candidate that is a further report of a study already queued.
LINKED_TO_EXISTING = "linked_to_existing"

__all__ = ["DECISIONS", "LINKED_TO_EXISTING", "ROLES", "STAGES", "STATES"]
