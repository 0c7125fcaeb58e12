-- metric: timestamp_resolution
-- grain: kind, tool, agent
-- fr: La précision des heures enregistrées : à la minute, à la seconde ou plus fin encore.
--   resolution_s vaut 60 si toutes les heures tombent sur une minute ronde, 1 si certaines ont des
--   secondes, 0,001 ou 0,000001 si certaines ont des fractions de seconde. share_with_seconds est la
--   part des heures qui ne tombent pas sur une minute ronde.
-- en: How precise the recorded times are: to the minute, to the second or finer. resolution_s is 60
--   when every time falls on a whole minute, 1 when some carry seconds, 0.001 or 0.000001 when some
--   carry fractions of a second. share_with_seconds is the share of times not on a whole minute.
WITH parts AS (
    SELECT kind, tool, agent, t, busy_until,
           epoch_us(t) % 60000000 AS us_in_minute,
           epoch_us(t) % 1000000 AS us_in_second,
           epoch_us(t) % 1000 AS us_in_ms
    FROM events
)
SELECT kind, tool, agent,
       count(*) AS n_records,
       avg(CASE WHEN us_in_minute <> 0 THEN 1.0 ELSE 0.0 END) AS share_with_seconds,
       avg(CASE WHEN us_in_second <> 0 THEN 1.0 ELSE 0.0 END) AS share_subsecond,
       CASE
           WHEN bool_or(us_in_ms <> 0) THEN CAST(0.000001 AS DOUBLE)
           WHEN bool_or(us_in_second <> 0) THEN 0.001
           WHEN bool_or(us_in_minute <> 0) THEN 1.0
           ELSE 60.0
       END AS resolution_s,
       epoch(max(t) - min(t)) / 86400.0 AS span_days
FROM parts
GROUP BY kind, tool, agent
