"""Query → evidence hits → fused → aggregated per organisation → explained; then teams and bulk."""
