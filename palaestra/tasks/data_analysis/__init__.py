"""Data analysis: questions about small CSV files, answered by running code on them.

Task ``data-sales-2-417`` is what ``random.Random("data/sales/2/417")`` writes: one or two CSV
files (sales by region and month, sensor readings with gaps, grades, inventory) and a question
at level 2 of the ``sales`` template. Level 1 asks for one aggregate of one file; level 2 filters,
groups, ranks or takes a median; level 3 joins two files. The answer is a number, compared with a
relative tolerance of 1e-4 (an answer rounded as the question asks is accepted), or names in
order, compared after normalising case and spaces. The split is a hash of the question and the
files. Reference code uses only ``csv`` and ``statistics``: pandas may be missing in a sandbox.

Modules: ``family`` (`DataAnalysisFamily` and the `TEMPLATES` table), the templates by the data
they ask about (``sales``, ``sensors``, ``grades``, ``inventory``), ``drafts`` (what a template
writes, and the helpers they share) and ``checks`` (comparing an answer with the reference).
"""

from palaestra.tasks.data_analysis.family import (
    LEVELS,
    RELATIVE_TOLERANCE,
    TEMPLATES,
    DataAnalysisFamily,
)

__all__ = ["LEVELS", "RELATIVE_TOLERANCE", "TEMPLATES", "DataAnalysisFamily"]
