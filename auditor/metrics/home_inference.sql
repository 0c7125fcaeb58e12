-- metric: home_inference
-- grain: tool, agent
-- fr: Peut-on deviner où habite l'agent ? On prend les positions relevées la nuit (21 h – 6 h, heure
--   locale) et on les regroupe par carré d'environ 100 m (0,001 degré). Le carré le plus fréquent, s'il
--   revient plusieurs nuits, désigne très probablement le domicile.
-- en: Can the agent's home be guessed? Take the fixes logged at night (21:00–06:00 local time) and group
--   them by squares of about 100 m (0.001 degree). The most frequent square, if it recurs over several
--   nights, very likely marks the home.
WITH night AS (
    SELECT p.tool, p.agent, p.lat, p.lon,
           timezone(pp.tz, p."time") AS local_t
    FROM positions p CROSS JOIN policy_params pp
    WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL
),
fixes AS (
    SELECT tool, agent,
           floor(lat * 1000) AS cell_lat, floor(lon * 1000) AS cell_lon,
           -- a night runs from 21:00 to 06:00: early-morning fixes belong to the previous evening's night
           CAST(local_t - INTERVAL 6 HOUR AS DATE) AS night
    FROM night
    WHERE hour(local_t) >= 21 OR hour(local_t) < 6
),
cells AS (
    SELECT tool, agent, cell_lat, cell_lon, count(*) AS n, count(DISTINCT night) AS nights
    FROM fixes GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY tool, agent ORDER BY nights DESC, n DESC, cell_lat, cell_lon) AS rk
    FROM cells
),
totals AS (
    SELECT tool, agent, count(*) AS night_fixes, count(DISTINCT night) AS nights FROM fixes GROUP BY ALL
)
SELECT t.tool, t.agent, t.night_fixes, t.nights,
       r.n AS top_cell_fixes, r.nights AS top_cell_nights,
       r.n / t.night_fixes AS top_cell_share
FROM totals t JOIN ranked r ON r.tool = t.tool AND r.agent = t.agent AND r.rk = 1
