"""The workflow's steps: one module per rule file, one public function per rule, named
like the rule (``workflow/rules/pool.smk`` rule ``pool_outcome`` ->
:func:`livingmeta.workflow.pool.pool_outcome`).

A step receives the paths its rule declares (``snakemake.input``, ``output``,
``params``) and the review's settings, and finds no file by itself; the scripts in
``scripts/`` only unpack Snakemake's objects and call it. The domain work lives below, in
``stats``, ``extraction``, ``screening``, ``retrieval``, ``plots``, ``report`` and
``site``; ``docs/architecture.md`` draws the whole picture.
"""
