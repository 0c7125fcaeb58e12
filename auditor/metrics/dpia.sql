-- metric: dpia
-- grain: tool
-- requires: prior_findings
-- fr: Pour chaque outil : le niveau le plus grave des constats déjà établis par les autres règles
--   (0 info, 1 faible, 2 moyen, 3 élevé, 4 critique) et si une analyse d'impact (AIPD) est déclarée.
-- en: For each tool: the most severe level of the findings already made by the other rules (0 info,
--   1 low, 2 medium, 3 high, 4 critical) and whether an impact assessment (DPIA) is declared.
SELECT f.tool,
       max(f.severity_rank) AS max_severity_rank,
       count(*) FILTER (WHERE f.severity_rank >= 3) AS n_high_findings,
       any_value(p.dpia_date) IS NULL AS dpia_missing,
       any_value(f.n_agents) AS n_agents
FROM prior_findings f CROSS JOIN policy_params p
WHERE f.tool <> '*'
GROUP BY f.tool
