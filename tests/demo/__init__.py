"""Tests of :mod:`clvlib.demo` (a package, so its module names cannot clash with other test folders)."""
