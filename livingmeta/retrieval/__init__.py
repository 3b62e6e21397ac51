"""Evidence retrieval: searching PubMed and ClinicalTrials.gov, importing exported records,
snapshots of what each source said, and the cross-source record registry."""
