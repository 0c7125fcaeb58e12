-- view: events
-- grain: kind, tool, agent
-- fr: Un événement par ligne de chaque export, avec l'heure locale et sa place dans l'horaire déclaré :
--   dans le service, hors horaires, pendant une pause, un jour de repos ou un jour férié, pendant une
--   heure de délégation ; « slot » en fait une seule catégorie, dans cet ordre de priorité : jour férié,
--   jour de repos (hors jours travaillés du groupe), pause déclarée, hors des horaires déclarés, ou dans
--   le service. L'heure retenue est celle de l'acte (début du rendez-vous, appel du ticket, position,
--   requête, pointage, soin, action) ; « busy_until » est la fin de l'acte quand elle existe. Chaque
--   événement connaît aussi l'enregistrement précédent du même agent le même jour (heure locale) :
--   l'intervalle depuis celui-ci, la fin la plus tardive des actes précédents et sa catégorie (colonnes
--   ajoutées par auditor/metrics/sequence.py, qui en donne la définition en SQL).
-- en: One event per row of every export, with its local time and its place in the declared schedule:
--   in shift, outside hours, in a break, on a rest day or public holiday, in delegation hours; "slot"
--   makes it one category, in this order of priority: public holiday, rest day (not a working day of
--   the group), declared break, outside declared hours, or in shift. The time used is the time of the
--   act (appointment start, ticket call, fix, request, punch, care act, action); "busy_until" is the end
--   of the act when known. Each event also knows the same agent's previous record on the same (local)
--   day: the interval since it, the latest end of the earlier acts and the previous record's slot
--   (columns added by auditor/metrics/sequence.py, which gives their definition in SQL).
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
           coalesce(i.person, r.agent) AS person,
           coalesce(i.grp, p.default_group) AS grp,
           timezone(p.tz, r.t) AS local_t,
           CASE WHEN r.t_end > r.t THEN timezone(p.tz, r.t_end) ELSE timezone(p.tz, r.t) END AS local_busy_until
    FROM raw r
    CROSS JOIN policy_params p
    LEFT JOIN identities i ON i.agent = r.agent AND i.tool = r.tool
    WHERE r.t IS NOT NULL
),
weekly_delegation AS (SELECT DISTINCT agent, isodow, minute FROM delegation_minutes WHERE isodow IS NOT NULL),
dated_delegation AS (SELECT DISTINCT agent, day, minute FROM delegation_minutes WHERE day IS NOT NULL),
placed AS (
    SELECT l.*,
           CAST(l.local_t AS DATE) AS local_day,
           isodow(l.local_t) AS isodow,
           epoch(l.local_t - date_trunc('day', l.local_t)) / 60.0 AS minute,
           epoch(l.local_busy_until - date_trunc('day', l.local_t)) / 60.0 AS busy_minute
    FROM located l
),
classified AS (
    SELECT e.kind, e.tool, e.agent, e.person, e.t, e.busy_until, e.local_t, e.local_day, e.isodow, e.minute,
           e.busy_minute, e.grp,
           e.isodow >= 6 AS is_weekend,
           holiday.day IS NOT NULL AS is_holiday,
           NOT coalesce(slot.is_workday, FALSE) AS is_rest_day,
           coalesce(slot.in_hours, FALSE) AS in_hours,
           coalesce(slot.in_break, FALSE) AS in_break,
           coalesce(own_week.agent, person_week.agent, own_date.agent, person_date.agent) IS NOT NULL
               AS in_delegation
    FROM placed e
    LEFT JOIN (SELECT DISTINCT day FROM policy_holidays) holiday ON holiday.day = e.local_day
    LEFT JOIN minute_slots slot
           ON slot.grp = e.grp AND slot.isodow = e.isodow AND slot.minute = CAST(floor(e.minute) AS INTEGER)
    -- declared for the identifier or for the person it belongs to, by weekday or by date (equality lookups)
    LEFT JOIN weekly_delegation own_week ON own_week.agent = e.agent AND own_week.isodow = e.isodow
                                        AND own_week.minute = CAST(floor(e.minute) AS INTEGER)
    LEFT JOIN weekly_delegation person_week ON person_week.agent = e.person AND person_week.isodow = e.isodow
                                           AND person_week.minute = CAST(floor(e.minute) AS INTEGER)
    LEFT JOIN dated_delegation own_date ON own_date.agent = e.agent AND own_date.day = e.local_day
                                       AND own_date.minute = CAST(floor(e.minute) AS INTEGER)
    LEFT JOIN dated_delegation person_date ON person_date.agent = e.person AND person_date.day = e.local_day
                                          AND person_date.minute = CAST(floor(e.minute) AS INTEGER)
),
slotted AS (
    SELECT c.*,
           CASE
               WHEN c.is_holiday THEN 'holiday'
               WHEN c.is_rest_day THEN 'rest_day'
               WHEN c.in_break THEN 'break'
               WHEN NOT c.in_hours THEN 'off_hours'
               ELSE 'shift'
           END AS slot
    FROM classified c
)
SELECT * FROM slotted
