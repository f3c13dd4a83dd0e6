"""The model's units and their scale factors, defined once.

The model works in MW, MWh, million USD, t CO2 and hm3 of water (tame coefficients for
HiGHS); planners read USD, kg and m3. :mod:`optimizer.prepare` scales inputs into the model
with these, and marginal values and relaxations scale results back out with them.
"""

USD_PER_MUSD = 1e6
"""Money in the model is million USD."""
KG_PER_T = 1e3
"""Emissions in the model are t CO2e."""
M3_PER_HM3 = 1e6
"""Water in the model is cubic hectometres (million m3)."""
