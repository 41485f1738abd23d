"""Offline training of scoring's models: needs the ``train`` extra (optbinning, scikit-learn,
pandas); the service itself serves the exported documents with numpy alone."""
