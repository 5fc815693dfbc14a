"""The FlightLLM paper's headline figures: the one copy (study, report view and tests read it)."""

# REFERENCE §2 (the FlightLLM paper's headline results)
PAPER = {"u280 llama2-7b decode tok/s": 55, "u280 HBM util on-chip": 0.659,
         "u280 HBM util off-chip": 0.356, "energy vs V100S": 6.0, "cost vs V100S": 1.8,
         "energy vs A100": 4.2, "cost vs A100": 1.4, "vhk158 throughput vs A100": 1.2,
         "storage reduction": 500}
