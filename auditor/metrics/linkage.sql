-- metric: linkage
-- grain: person
-- fr: Combien de sources (outils) différentes peuvent être reliées à une même personne — par un
--   identifiant identique, ou par la table d'identités déclarée — et quelle part de sa journée de
--   travail elles couvrent ensemble : la part des minutes de service (horaires déclarés, hors pauses,
--   les jours où la personne apparaît) qui ont un enregistrement, de n'importe quelle source, à moins
--   de 15 minutes. tool vaut « * » : la ligne porte sur toutes les sources.
-- en: How many different sources (tools) can be linked to one person — by an identical identifier, or
--   through the declared identity map — and which share of the working day they cover together: the
--   share of shift minutes (declared hours, breaks excluded, on days the person appears) that have a
--   record, from any source, within 15 minutes. tool is "*": the row is about all sources.
WITH person_days AS (
    -- Person-days and identifiers read only each identifier's first record of a day (interval_s is null there
    -- and only there): every one of them has one, and the group is an identifier's, so the result is that of
    -- all the records, for a scan that skips the rest.
    SELECT person, local_day, min(grp) AS grp, any_value(isodow) AS isodow
    FROM events WHERE interval_s IS NULL GROUP BY person, local_day
),
-- The declared minutes of each weekday, breaks removed, as runs of consecutive minutes: a few rows per group
-- and weekday, so that coverage is computed on intervals and not minute by minute (a year of a large
-- employer has hundreds of millions of shift minutes).
day_segments AS (
    SELECT d.person, d.local_day, s.seg_start, s.seg_end
    FROM person_days d
    JOIN shift_segments s ON s.grp = d.grp AND s.isodow = d.isodow
    WHERE NOT EXISTS (SELECT 1 FROM policy_holidays x WHERE x.day = d.local_day)
),
reach AS (  -- the minutes a trace covers (15 either side), less those the previous trace covered already
    SELECT person, local_day, minute + 16 AS new_end,
           greatest(minute - 15, coalesce(prev_minute + 16, minute - 15)) AS new_start
    FROM marks
),
shift_totals AS (
    SELECT person, CAST(sum(seg_end - seg_start) AS BIGINT) AS shift_minutes FROM day_segments GROUP BY person
),
covered_totals AS (
    SELECT s.person, CAST(sum(least(s.seg_end, r.new_end) - greatest(s.seg_start, r.new_start)) AS BIGINT)
               AS covered_minutes
    FROM day_segments s
    JOIN reach r ON r.person = s.person AND r.local_day = s.local_day
                AND r.new_start < s.seg_end AND r.new_end > s.seg_start
    GROUP BY s.person
),
coverage AS (
    SELECT t.person, t.shift_minutes, coalesce(c.covered_minutes, 0) AS covered_minutes
    FROM shift_totals t LEFT JOIN covered_totals c USING (person)
),
sources AS (
    SELECT person, count(DISTINCT tool) AS n_tools, count(DISTINCT kind) AS n_kinds,
           list(DISTINCT tool ORDER BY tool) AS tools, list(DISTINCT agent ORDER BY agent) AS identifiers,
           (SELECT count(*) FROM person_days d WHERE d.person IS NOT DISTINCT FROM i.person) AS person_days
    FROM (SELECT DISTINCT person, kind, tool, agent FROM events WHERE interval_s IS NULL) i GROUP BY person
)
SELECT '*' AS tool, s.person AS agent, s.n_tools, s.n_kinds, s.tools, s.identifiers, s.person_days,
       coalesce(c.shift_minutes, 0) AS shift_minutes,
       coalesce(c.covered_minutes, 0) AS covered_minutes,
       c.covered_minutes / nullif(c.shift_minutes, 0) AS coverage_share
FROM sources s
LEFT JOIN coverage c USING (person)
