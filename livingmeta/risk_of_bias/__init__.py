"""Risk of bias: tools as data, dual independent assessment, consensus and its uses.

Why a package of its own: a judgement of bias is a piece of review data like a screening
decision. Two assessors rate each study independently (one CSV file each, in
``reviews/<id>/risk_of_bias/<assessor>.csv``), their disagreements are listed until a row
in ``consensus.csv`` settles them, and only settled judgements reach plots, tables and
the restricted sensitivity analysis. A study nobody has rated yet is shown as
:data:`NOT_ASSESSED`, never given a judgement.

Words: a *tool* (RoB 2, ROBINS-I, Newcastle-Ottawa, or one declared in config) has
*domains*, each judged at one of the tool's *levels*; a domain may have signalling
*questions* whose *answers* let the tool's published algorithm *propose* the judgement,
which an assessor may *override* with a reason. ``overall`` is the domain key of the
overall judgement.
"""

from __future__ import annotations

#: What outputs say for a study, domain or outcome without a settled judgement.
NOT_ASSESSED = "not yet assessed"
#: What the traffic-light plot draws where the assessors' judgements differ, unsettled.
DISPUTED = "disputed"
#: Domain key of the overall judgement in assessment files and results.
OVERALL = "overall"
#: File of a review's risk-of-bias folder holding the consensus rows.
CONSENSUS_FILE = "consensus.csv"

__all__ = ["CONSENSUS_FILE", "DISPUTED", "NOT_ASSESSED", "OVERALL"]
