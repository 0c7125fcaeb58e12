-- metric: activity_counts
-- grain: kind, tool, agent
-- fr: Combien d'actes chaque agent enregistre par heure et par jour où il en a au moins un : moyenne
--   et maximum. C'est ce qu'un compteur de productivité individuel afficherait.
-- en: How many acts each agent records per hour and per day with at least one: mean and maximum.
--   This is what a per-agent productivity counter would show.
WITH hourly AS (
    SELECT kind, tool, agent, date_trunc('hour', local_t) AS hour, count(*) AS n
    FROM events GROUP BY ALL
),
daily AS (
    SELECT kind, tool, agent, local_day, count(*) AS n
    FROM events GROUP BY ALL
),
h AS (
    SELECT kind, tool, agent, count(*) AS active_hours, avg(n) AS mean_per_hour, max(n) AS max_per_hour,
           sum(n) AS n_records
    FROM hourly GROUP BY ALL
),
d AS (
    SELECT kind, tool, agent, count(*) AS active_days, avg(n) AS mean_per_day, max(n) AS max_per_day
    FROM daily GROUP BY ALL
)
SELECT h.kind, h.tool, h.agent, h.n_records, h.active_hours, h.mean_per_hour, h.max_per_hour,
       d.active_days, d.mean_per_day, d.max_per_day
FROM h JOIN d USING (kind, tool, agent)
