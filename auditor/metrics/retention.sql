-- metric: retention
-- grain: kind, tool, agent
-- fr: Combien d'enregistrements l'export contient pour chaque agent, du premier au dernier, et sur
--   combien de jours ils s'étalent (« conservation observée » : les données sont gardées au moins aussi
--   longtemps). Comparé à la durée maximale recommandée par la CNIL pour ce type de données
--   (cap_days) et à la durée déclarée par l'employeur (declared_days).
-- en: How many records the export holds for each agent, from the first to the last, and over how many
--   days they spread ("observed retention": the data is kept at least that long). Compared with the
--   CNIL's recommended maximum for this kind of data (cap_days) and the employer's declared retention
--   (declared_days).
SELECT e.kind, e.tool, e.agent,
       count(*) AS n_records,
       min(e.t) AS first_time,
       max(e.t) AS last_time,
       epoch(max(e.t) - min(e.t)) / 86400.0 AS span_days,
       count(*) FILTER (WHERE e.interval_s IS NULL) AS active_days,  -- an agent's first record of each day
       any_value(c.cap_days) AS cap_days,
       any_value(r.days) AS declared_days,
       epoch(max(e.t) - min(e.t)) / 86400.0 / nullif(any_value(c.cap_days), 0) AS span_over_cap,
       epoch(max(e.t) - min(e.t)) / 86400.0 / nullif(any_value(r.days), 0) AS span_over_declared
FROM events e
LEFT JOIN retention_caps c ON c.kind = e.kind
LEFT JOIN policy_retention r ON r.kind = e.kind
GROUP BY e.kind, e.tool, e.agent
