"""Pure rules: classification, subject (R1/R5), submission checks."""
