-- metric: tracking_controls
-- grain: tool, agent
-- fr: La géolocalisation peut-elle être coupée ? Pour chaque agent suivi : nombre de jours avec des
--   positions, vitesse enregistrée (nombre de positions avec une vitesse, vitesse maximale en km/h), et
--   nombre d'événements d'activation ou de désactivation du suivi (mode « pause », « privé »,
--   « désactivé », « off », dans les positions ou les événements d'activité du même agent).
-- en: Can geolocation be switched off? For each tracked agent: days with positions, speed recorded
--   (fixes with a speed, top speed in km/h), and tracking on/off events ("pause", "private",
--   "disabled", "off" modes, in positions or in the same agent's activity events).
WITH labels AS (  -- each distinct pair of labels is matched once: a year of fixes repeats a handful of them
    SELECT activity, provider,
           regexp_matches(' ' || strip_accents(lower(coalesce(activity, '') || ' ' || coalesce(provider, ''))) || ' ',
                          '[^a-z](off|pause|prive|private|desactiv[a-z]*|disabled|stop|arret|masqu[a-z]*)[^a-z]')
               AS toggle
    FROM (SELECT DISTINCT activity, provider FROM positions)
),
fixes AS (
    SELECT p.tool, p.agent, p.speed_mps, l.toggle
    FROM positions p
    JOIN labels l ON l.activity IS NOT DISTINCT FROM p.activity AND l.provider IS NOT DISTINCT FROM p.provider
),
days AS (  -- the local days with fixes: an agent's first fix of each day in events
    SELECT tool, agent, count(*) FILTER (WHERE interval_s IS NULL) AS days_with_fixes
    FROM events WHERE kind = 'positions' GROUP BY tool, agent
),
toggles AS (
    SELECT agent, count(*) AS n
    FROM activity_events
    WHERE regexp_matches(' ' || strip_accents(lower(coalesce(action, '') || ' ' || coalesce(detail, ''))) || ' ',
                         '(geoloc|gps|location|localisation|tracking|suivi)')
      AND regexp_matches(' ' || strip_accents(lower(coalesce(action, '') || ' ' || coalesce(detail, ''))) || ' ',
                         '[^a-z](off|pause|prive|private|desactiv[a-z]*|disabled|activ[a-z]*|enabled|on|start|stop)[^a-z]')
    GROUP BY agent
)
SELECT f.tool, f.agent,
       count(*) AS n_fixes,
       any_value(d.days_with_fixes) AS days_with_fixes,
       count(f.speed_mps) AS n_speed,
       max(f.speed_mps) * 3.6 AS max_speed_kmh,
       count(*) FILTER (WHERE f.toggle) + coalesce(any_value(t.n), 0) AS toggle_events
FROM fixes f
LEFT JOIN toggles t ON t.agent = f.agent
LEFT JOIN days d ON d.tool = f.tool AND d.agent IS NOT DISTINCT FROM f.agent
GROUP BY f.tool, f.agent
