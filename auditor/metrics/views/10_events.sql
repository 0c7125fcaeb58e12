-- view: events
-- fr: Un événement par ligne de chaque export, avec l'heure locale et sa place dans l'horaire déclaré :
--   dans le service, hors horaires, pendant une pause, un jour de repos ou un jour férié, pendant une
--   heure de délégation. L'heure retenue est celle de l'acte (début du rendez-vous, appel du ticket,
--   position, requête, pointage, soin, action) ; « busy_until » est la fin de l'acte quand elle existe.
-- en: One event per row of every export, with its local time and its place in the declared schedule:
--   in shift, outside hours, in a break, on a rest day or public holiday, in delegation hours. The time
--   used is the time of the act (appointment start, ticket call, fix, request, punch, care act, action);
--   "busy_until" is the end of the act when known.
WITH raw AS (
    SELECT 'appointments' AS kind, tool, agent, "start" AS t, "end" AS t_end FROM appointments
    UNION ALL
    SELECT 'queue_tickets', tool, agent, coalesce(called_at, served_start, issued_at), served_end
    FROM queue_tickets WHERE agent IS NOT NULL
    UNION ALL
    SELECT 'positions', tool, agent, "time", NULL FROM positions
    UNION ALL
    SELECT 'web_requests', tool, agent, "time", NULL FROM web_requests WHERE agent IS NOT NULL
    UNION ALL
    SELECT 'clock_events', tool, agent, "time", NULL FROM clock_events
    UNION ALL
    SELECT 'care_acts', tool, agent, coalesce("start", recorded_at, planned_start), "end" FROM care_acts
    UNION ALL
    SELECT 'case_actions', tool, agent, "time", "time" + to_microseconds(CAST(duration_s * 1e6 AS BIGINT))
    FROM case_actions
    UNION ALL
    SELECT 'activity_events', tool, agent, "time", "time" + to_microseconds(CAST(duration_s * 1e6 AS BIGINT))
    FROM activity_events
),
located AS (
    SELECT r.kind, r.tool, r.agent, r.t,
           greatest(r.t, coalesce(r.t_end, r.t)) AS busy_until,
           coalesce(exact.person, anytool.person, r.agent) AS person,
           timezone(p.tz, r.t) AS local_t,
           timezone(p.tz, greatest(r.t, coalesce(r.t_end, r.t))) AS local_busy_until,
           p.default_group
    FROM raw r
    CROSS JOIN policy_params p
    LEFT JOIN policy_identity exact ON exact.agent = r.agent AND exact.tool = r.tool
    LEFT JOIN policy_identity anytool ON anytool.agent = r.agent AND anytool.tool = '*'
    WHERE r.t IS NOT NULL
),
placed AS (
    SELECT l.*,
           CAST(l.local_t AS DATE) AS local_day,
           isodow(l.local_t) AS isodow,
           epoch(l.local_t - date_trunc('day', l.local_t)) / 60.0 AS minute,
           epoch(l.local_busy_until - date_trunc('day', l.local_t)) / 60.0 AS busy_minute,
           coalesce(mp.grp, ma.grp, l.default_group) AS grp
    FROM located l
    LEFT JOIN policy_members mp ON mp.agent = l.person
    LEFT JOIN policy_members ma ON ma.agent = l.agent AND l.agent <> l.person
)
SELECT e.kind, e.tool, e.agent, e.person, e.t, e.busy_until, e.local_t, e.local_day, e.isodow, e.minute,
       e.busy_minute, e.grp,
       e.isodow >= 6 AS is_weekend,
       EXISTS (SELECT 1 FROM policy_holidays h WHERE h.day = e.local_day) AS is_holiday,
       NOT EXISTS (SELECT 1 FROM policy_workdays w WHERE w.grp = e.grp AND w.isodow = e.isodow) AS is_rest_day,
       EXISTS (SELECT 1 FROM policy_hours h
               WHERE h.grp = e.grp AND h.isodow = e.isodow AND e.minute >= h.start_min AND e.minute < h.end_min)
           AS in_hours,
       EXISTS (SELECT 1 FROM policy_breaks b
               WHERE b.grp = e.grp AND b.isodow = e.isodow AND e.minute >= b.start_min AND e.minute < b.end_min)
           AS in_break,
       EXISTS (SELECT 1 FROM policy_delegation d
               WHERE (d.agent = e.agent OR d.agent = e.person)
                 AND (d.isodow = e.isodow OR d.day = e.local_day)
                 AND e.minute >= d.start_min AND e.minute < d.end_min) AS in_delegation
FROM placed e
