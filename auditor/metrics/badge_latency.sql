-- metric: badge_latency
-- grain: person
-- empty-without: clock_events
-- fr: Le délai, chaque jour, entre le premier passage de badge en entrée et le premier acte enregistré
--   dans un autre outil (ticket, rendez-vous, soin, dossier, événement), et entre le dernier acte et le
--   dernier badge en sortie. Il n'est calculable que si les deux sources sont reliables à la même
--   personne. Médianes en minutes, nombre de jours où le calcul est possible.
-- en: The delay, each day, between the first badge-in and the first act logged in another tool
--   (ticket, appointment, care act, case, event), and between the last act and the last badge-out. It
--   can only be computed when both sources link to the same person. Medians in minutes, number of days
--   where it can be computed.
WITH badges AS (
    SELECT e.person, e.local_day,
           min(e.t) FILTER (WHERE lower(coalesce(c.direction, '')) IN ('in', 'entree', 'entrée', 'e', 'arrivee', 'arrivée')
                            OR c.direction IS NULL) AS first_in,
           max(e.t) FILTER (WHERE lower(coalesce(c.direction, '')) IN ('out', 'sortie', 's', 'depart', 'départ')
                            OR c.direction IS NULL) AS last_out
    FROM clock_events c
    JOIN events e ON e.kind = 'clock_events' AND e.tool = c.tool AND e.agent = c.agent AND e.t = c."time"
    GROUP BY e.person, e.local_day
),
acts AS (
    SELECT person, local_day, min(t) AS first_act, max(busy_until) AS last_act
    FROM events
    WHERE kind IN ('queue_tickets', 'appointments', 'care_acts', 'case_actions', 'activity_events')
    GROUP BY person, local_day
),
days AS (
    SELECT b.person, b.local_day,
           epoch(a.first_act - b.first_in) / 60.0 AS in_latency_min,
           epoch(b.last_out - a.last_act) / 60.0 AS out_latency_min
    FROM badges b JOIN acts a USING (person, local_day)
    WHERE b.first_in IS NOT NULL AND a.first_act >= b.first_in
)
SELECT '*' AS tool, person AS agent,
       count(*) AS n_days,
       median(in_latency_min) AS median_in_latency_min,
       median(out_latency_min) FILTER (WHERE out_latency_min >= 0) AS median_out_latency_min
FROM days
GROUP BY person
