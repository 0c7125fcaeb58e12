-- metric: gps_time_source
-- grain: person
-- empty-without: clock_events, care_acts
-- fr: Les heures de travail sont-elles établies par la position GPS alors qu'un autre moyen existe ?
--   gps_timed_records compte les pointages et les soins horodatés avec une position (coordonnées,
--   ou mode « gps », « géolocalisation », « mobile »). other_time_records compte les pointages sans
--   position (badgeuse). hours_declared dit si l'employeur a déclaré des horaires.
-- en: Are working hours established from the GPS position although another means exists?
--   gps_timed_records counts punches and care acts timed together with a position (coordinates, or a
--   "gps", "geolocation" or "mobile" method). other_time_records counts punches without a position (a
--   time clock). hours_declared says whether the employer declared working hours.
WITH timed AS (
    SELECT e.person, c.lat IS NOT NULL OR regexp_matches(lower(coalesce(c.method, '')), 'gps|geoloc|g[eé]oloc|mobile')
               AS gps_timed
    FROM clock_events c
    JOIN events e ON e.kind = 'clock_events' AND e.tool = c.tool AND e.agent = c.agent AND e.t = c."time"
    UNION ALL
    SELECT e.person, c.lat IS NOT NULL OR regexp_matches(lower(coalesce(c.method, '')), 'gps|geoloc|g[eé]oloc')
    FROM care_acts c
    JOIN events e ON e.kind = 'care_acts' AND e.tool = c.tool AND e.agent = c.agent
                 AND e.t = coalesce(c."start", c.recorded_at, c.planned_start)
)
SELECT '*' AS tool, t.person AS agent,
       count(*) FILTER (WHERE t.gps_timed) AS gps_timed_records,
       count(*) FILTER (WHERE NOT t.gps_timed) AS other_time_records,
       (SELECT count(*) FROM events p WHERE p.kind = 'positions' AND p.person = t.person) AS position_records,
       any_value(pp.hours_declared) AS hours_declared
FROM timed t CROSS JOIN policy_params pp
GROUP BY t.person
