"""SAT + BDWP: N:M sparse training accelerator model (config, schedule, model)."""
