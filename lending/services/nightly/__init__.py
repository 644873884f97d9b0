"""The nightly run: reconcile, age, charge late fees, remind, signal devices, close.

Every step is for an explicit business date, works in batches of loans streamed in key order,
commits per batch, and is safe to repeat: running a date twice, or again after a kill at any
point, ends in the state of one uninterrupted run.
"""
