-- metric: gaps
-- grain: kind, tool, agent
-- fr: Les interruptions entre deux actes d'un même agent pendant le service : le temps entre la fin
--   (ou l'heure) d'un acte et le début du suivant, le même jour, quand les deux tombent dans les heures
--   de travail et qu'aucune pause déclarée ne commence entre eux. Comptées en deux bandes : de 1 à
--   10 minutes, et 10 minutes ou plus (les bandes de la décision CNIL Amazon).
-- en: Interruptions between two acts of the same agent during the shift: the time between the end (or
--   time) of one act and the start of the next, on the same day, when both fall within working hours
--   and no declared break starts between them. Counted in two bands: 1 to 10 minutes, and 10 minutes
--   or more (the bands of the CNIL Amazon decision).
WITH gaps AS (  -- gaps under a minute count in neither band: dropped before the break lookup
    SELECT o.kind, o.tool, o.agent, epoch(o.t - o.prev_busy_until) / 60.0 AS gap_min
    FROM events o
    WHERE o.slot = 'shift' AND o.prev_slot = 'shift' AND epoch(o.t - o.prev_busy_until) / 60.0 >= 1
      AND NOT EXISTS (SELECT 1 FROM policy_breaks b
                      WHERE b.grp = o.grp AND b.isodow = o.isodow
                        AND b.start_min >= o.prev_busy_minute AND b.start_min < o.minute)
),
bands AS (
    SELECT kind, tool, agent,
           count(*) FILTER (WHERE gap_min < 10) AS n_gaps_1_10,
           count(*) FILTER (WHERE gap_min >= 10) AS n_gaps_10_plus,
           sum(gap_min) FILTER (WHERE gap_min < 10) AS minutes_gaps_1_10,
           sum(gap_min) FILTER (WHERE gap_min >= 10) AS minutes_gaps_10_plus
    FROM gaps GROUP BY kind, tool, agent
),
population AS (
    SELECT kind, tool, agent,
           count(*) FILTER (WHERE interval_s IS NULL) AS agent_days,  -- an agent's first record of each day
           epoch(max(t) - min(t)) / 86400.0 AS span_days
    FROM events GROUP BY kind, tool, agent
)
SELECT p.kind, p.tool, p.agent, p.agent_days, p.span_days,
       coalesce(b.n_gaps_1_10, 0) AS n_gaps_1_10,
       coalesce(b.n_gaps_10_plus, 0) AS n_gaps_10_plus,
       coalesce(b.minutes_gaps_1_10, 0) AS minutes_gaps_1_10,
       coalesce(b.minutes_gaps_10_plus, 0) AS minutes_gaps_10_plus
FROM population p
LEFT JOIN bands b USING (kind, tool, agent)
