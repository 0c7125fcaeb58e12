-- metric: coord_precision
-- grain: kind, tool, agent
-- fr: La précision des coordonnées GPS enregistrées : le nombre de décimales des latitudes et
--   longitudes (4 décimales ≈ 10 m, 5 ≈ 1 m, 6 ≈ 10 cm ; 8 veut dire 8 ou plus) et la précision
--   annoncée par l'appareil (accuracy_m, médiane).
-- en: How precise the recorded GPS coordinates are: the number of decimals of latitudes and longitudes
--   (4 decimals ≈ 10 m, 5 ≈ 1 m, 6 ≈ 10 cm; 8 means 8 or more) and the accuracy the device reports
--   (accuracy_m, median).
WITH fixes AS (
    SELECT 'positions' AS kind, tool, agent, lat, lon, accuracy_m FROM positions
    UNION ALL SELECT 'clock_events', tool, agent, lat, lon, accuracy_m FROM clock_events
    UNION ALL SELECT 'care_acts', tool, agent, lat, lon, NULL FROM care_acts
),
decimals AS (
    SELECT kind, tool, agent, accuracy_m,
           greatest(decimals(lat), decimals(lon)) AS n_decimals
    FROM fixes
    WHERE agent IS NOT NULL AND lat IS NOT NULL AND lon IS NOT NULL
)
SELECT kind, tool, agent,
       count(*) AS n_fixes,
       max(n_decimals) AS max_decimals,
       quantile_disc(n_decimals, 0.5) AS median_decimals,
       avg(CASE WHEN n_decimals >= 5 THEN 1.0 ELSE 0.0 END) AS share_5_decimals_plus,
       median(accuracy_m) AS median_accuracy_m
FROM decimals
GROUP BY kind, tool, agent
