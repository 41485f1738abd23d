"""Offline training of scoring's models: needs the ``train`` extra (scikit-learn, pandas)."""
