"""Differential privacy and anonymisation: mechanisms, accounting, auditing, DP-SGD, k-anonymity."""
