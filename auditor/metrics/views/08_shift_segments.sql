-- view: shift_segments
-- fr: Les plages de service déclarées, pauses retirées : pour chaque groupe horaire et jour de la
--   semaine, chaque suite de minutes des horaires déclarés hors pause (début inclus, fin exclue, en
--   minutes après minuit). La couverture des journées (linkage) se mesure sur elles.
-- en: The declared shift spans, breaks removed: for each working-hours group and weekday, each run of
--   minutes of declared hours outside breaks (start included, end excluded, in minutes after midnight).
--   The coverage of working days (linkage) is measured on them.
WITH policy_minutes AS (
    SELECT h.grp, h.isodow, h.start_min, h.end_min, m.minute
    FROM policy_hours h
    CROSS JOIN LATERAL (SELECT unnest(range(h.start_min, h.end_min)) AS minute) m
    WHERE NOT EXISTS (SELECT 1 FROM policy_breaks b WHERE b.grp = h.grp AND b.isodow = h.isodow
                      AND m.minute >= b.start_min AND m.minute < b.end_min)
)
SELECT grp, isodow, min(minute) AS seg_start, max(minute) + 1 AS seg_end
FROM (SELECT *, minute - row_number() OVER (PARTITION BY grp, isodow, start_min, end_min ORDER BY minute)
               AS run FROM policy_minutes)
GROUP BY grp, isodow, start_min, end_min, run
