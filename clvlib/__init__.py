"""clvlib: the thin, tested library behind the CLV notebooks.

Every computation the notebooks show lives here as a pure function over
DataFrames.  Importing the package has no side effects (no pandas options,
no warning filters, no plotting style changes).
"""

__version__ = "0.1.0"
