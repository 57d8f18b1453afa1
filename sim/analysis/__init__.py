"""What is made of a run's tidy table: summaries and headlines, charts, the one-page report, the
outputs folder, and the evidence table (the model's emergent figures next to published ones)."""
