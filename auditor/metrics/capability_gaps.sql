-- metric: capability_gaps
-- grain: tool, capability
-- requires: field_inventory
-- fr: Ce que le produit peut enregistrer selon sa fiche (documentation, code public…) et que l'export
--   ne montre pas : pour chaque capacité, le champ de la forme commune qui la porterait et s'il est vide
--   ou absent dans l'export. Un champ vide n'est pas la preuve que la donnée n'existe pas.
-- en: What the product can record according to its sheet (documentation, public code…) and the export
--   does not show: for each capability, the canonical field that would carry it and whether it is
--   empty or absent in the export. An empty field is not proof the data does not exist.
SELECT c.tool, c.product, c.capability, c.kind, c.field, c.source,
       coalesce(i.n_non_null, 0) AS n_non_null,
       (SELECT max(j.n_agents) FROM field_inventory j WHERE j.tool = c.tool) AS n_agents,
       coalesce(i.n_non_null, 0) = 0 AS missing
FROM tool_capabilities c
LEFT JOIN field_inventory i ON i.tool = c.tool AND i.kind = c.kind AND i.field = c.field
