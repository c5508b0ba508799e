"""Spotting of micro- and macro-expressions in long videos (MEGC), and spot-then-recognise."""
