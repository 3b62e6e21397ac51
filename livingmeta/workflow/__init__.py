"""The workflow's steps: one module per rule file, one public function per rule, named
like the rule (``workflow/rules/pool.smk`` rule ``pool_outcome`` ->
:func:`livingmeta.workflow.pool.pool_outcome`).

A step receives the paths its rule declares (``snakemake.input``, ``output``,
``params``) and the review's settings, and finds no file by itself; the rule's glue (its
``run:`` block, or for the search its script in ``scripts/``) only unpacks Snakemake's
objects and calls it through :mod:`livingmeta.rulelog`. The domain work lives below, in
``stats``, ``extraction``, ``screening``, ``retrieval``, ``plots``, ``report`` and
``site``; ``docs/architecture.md`` draws the whole picture.
"""
