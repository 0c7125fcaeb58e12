-- metric: sampling_interval
-- grain: kind, tool, agent
-- fr: Le temps écoulé entre deux enregistrements successifs d'un même agent le même jour (heure
--   locale) : médiane et 10e centile (1 intervalle sur 10 est plus court) sur toute la période, et la
--   médiane du jour le plus serré. Pour une géolocalisation, c'est la fréquence de relevé de la
--   position.
-- en: The time between two successive records of the same agent on the same (local) day: median and
--   10th percentile (one interval in ten is shorter) over the whole period, and the median of the
--   tightest day. For geolocation, this is how often the position is logged.
WITH daily AS (
    SELECT kind, tool, agent, local_day, median(interval_s) AS day_median_s
    FROM events WHERE interval_s IS NOT NULL
    GROUP BY kind, tool, agent, local_day
),
overall AS (
    SELECT kind, tool, agent,
           count(*) AS n_intervals,
           quantile_cont(interval_s, 0.5) AS median_interval_s,
           quantile_cont(interval_s, 0.1) AS p10_interval_s
    FROM events WHERE interval_s IS NOT NULL
    GROUP BY kind, tool, agent
)
SELECT o.kind, o.tool, o.agent, o.n_intervals,
       count(*) AS agent_days,
       any_value(o.median_interval_s) AS median_interval_s,
       any_value(o.p10_interval_s) AS p10_interval_s,
       min(d.day_median_s) AS min_daily_median_s
FROM overall o
JOIN daily d USING (kind, tool, agent)
GROUP BY o.kind, o.tool, o.agent, o.n_intervals
