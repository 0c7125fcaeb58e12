-- metric: sampling_interval
-- grain: kind, tool, agent
-- fr: Le temps écoulé entre deux enregistrements successifs d'un même agent le même jour (heure
--   locale) : médiane et 10e centile (1 intervalle sur 10 est plus court) sur toute la période, et la
--   médiane du jour le plus serré. Pour une géolocalisation, c'est la fréquence de relevé de la
--   position.
-- en: The time between two successive records of the same agent on the same (local) day: median and
--   10th percentile (one interval in ten is shorter) over the whole period, and the median of the
--   tightest day. For geolocation, this is how often the position is logged.
WITH ordered AS (
    SELECT kind, tool, agent, local_day,
           epoch(t - lag(t) OVER (PARTITION BY kind, tool, agent, local_day ORDER BY t)) AS interval_s
    FROM events
),
intervals AS (
    SELECT * FROM ordered WHERE interval_s IS NOT NULL
),
daily AS (
    SELECT kind, tool, agent, local_day, median(interval_s) AS day_median_s
    FROM intervals GROUP BY kind, tool, agent, local_day
)
SELECT i.kind, i.tool, i.agent,
       count(*) AS n_intervals,
       count(DISTINCT i.local_day) AS agent_days,
       quantile_cont(i.interval_s, 0.5) AS median_interval_s,
       quantile_cont(i.interval_s, 0.1) AS p10_interval_s,
       (SELECT min(d.day_median_s) FROM daily d
        WHERE d.kind = i.kind AND d.tool = i.tool AND d.agent = i.agent) AS min_daily_median_s
FROM intervals i
GROUP BY i.kind, i.tool, i.agent
