"""Arithmetic circuits over the BN254 scalar field: field, R1CS, builder, gadgets, circuits.

Imports nothing else of zkxai's.
"""
