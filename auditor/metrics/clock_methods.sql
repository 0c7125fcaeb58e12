-- metric: clock_methods
-- grain: tool, agent
-- empty-without: clock_events
-- fr: Comment l'agent pointe : nombre de pointages biométriques (empreinte, visage, reconnaissance),
--   avec photo, automatiques (créés par le système), par téléphone, et le plus grand nombre de
--   pointages avec photo sur une même journée.
-- en: How the agent clocks in: number of biometric punches (fingerprint, face, recognition), with a
--   photo, automatic (created by the system), by phone, and the largest number of photo punches on a
--   single day.
WITH punches AS (
    SELECT c.tool, c.agent, CAST(timezone(pp.tz, c."time") AS DATE) AS local_day,
           strip_accents(lower(coalesce(c.method, ''))) AS m, coalesce(c.automatic, FALSE) AS automatic
    FROM clock_events c CROSS JOIN policy_params pp
),
flags AS (
    SELECT *, regexp_matches(m, 'biometr|empreinte|fingerprint|finger|digital|visage|face|facial|veine|vein|iris')
               AS biometric,
           regexp_matches(m, 'photo|selfie|camera') AS photo,
           regexp_matches(m, 'mobile|phone|telephone|smartphone|app') AS mobile
    FROM punches
),
daily_photo AS (
    SELECT tool, agent, local_day, count(*) FILTER (WHERE photo) AS n FROM flags GROUP BY ALL
)
SELECT f.tool, f.agent,
       count(*) AS n_punches,
       count(*) FILTER (WHERE f.biometric) AS n_biometric,
       count(*) FILTER (WHERE f.photo) AS n_photo,
       count(*) FILTER (WHERE f.automatic OR f.m LIKE '%auto%') AS n_automatic,
       count(*) FILTER (WHERE f.mobile) AS n_mobile,
       (SELECT max(d.n) FROM daily_photo d WHERE d.tool = f.tool AND d.agent = f.agent) AS max_photo_per_day
FROM flags f
GROUP BY f.tool, f.agent
