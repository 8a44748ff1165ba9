"""First-report credit (R3): attachment text, normalisation, candidate narrowing, verdicts."""
