"""Teams for a challenge (issue 4): facets, coverage, 揭榜挂帅 solvers, 赛马制 consortia, and the
seed's lead-unit (牵头单位) eligibility rules.

- `facets`: a challenge text → facets (sub-requirements), from its enumeration structure.
- `coverage`: organisation × facet matrix of the engine's calibrated confidences.
- `solvers`: single organisations ranked by the facets they cover, then expected share.
- `consortium`: weighted maximum coverage under 产学研 / lead-unit / region constraints.
- `eligibility`: the 牵头单位 criteria, encoded as data in `lead_unit_rules.json`.
"""
