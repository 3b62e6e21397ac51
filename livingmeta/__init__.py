"""livingmeta: living systematic reviews and meta-analyses.

Domain words, used with one meaning throughout the package:

record
    One bibliographic or registry entry as a source returned it (a PubMed article, a
    ClinicalTrials.gov study, an imported RIS entry).
candidate
    A record that is new to the review and waits for human screening.
study
    One primary study included in the review; several records (reports) may describe it.
outcome
    A declared end point of the review (e.g. ``mortality_90d``) with its effect measure.
effect (``yi``, ``vi``)
    One study's effect size on the analysis scale (log scale for ratios) and its variance,
    as metafor's ``escalc`` computes them.
pooled estimate
    The combination of the study effects for one outcome (``PooledResult``).
"""

__version__ = "0.1.0"
