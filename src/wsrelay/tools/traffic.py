"""Compiler Explorer's traffic, in one place for `wsrelay cost` and `wsrelay simulate` (both
tools take their defaults from here; `wsrelay.tools.cost.defaults` re-exports them under the
same names, which the Terraform module's checks read).

Plain constants, standard library only: anything can read them without loading a model.
docs/aws-facts.md ("Compiler Explorer's traffic") gives the source.
"""

from __future__ import annotations

# About 92 million compilations a year (Matt Godbolt, "How Compiler Explorer Works in 2025",
# June 2025), 92e6 / 31.6e6 s = 2.9 a second. Not every compilation need go through the relay,
# so this is an upper bound of the relay's mean rate.
MEAN_JOBS_PER_S = 2.9
MEAN_JOBS_SOURCE = "92 million compilations a year (Compiler Explorer, 2025): an upper bound for the relay"
# The daily peak over the mean. Compiler Explorer does not publish its peak: an assumption.
PEAK_FACTOR = 3.0
PEAK_SOURCE = "assumed: Compiler Explorer does not publish its daily peak"
