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
    SELECT person, local_day, any_value(grp) AS grp, any_value(isodow) AS isodow
    FROM events GROUP BY person, local_day
),
grid AS (
    SELECT d.person, d.local_day, m.minute
    FROM person_days d
    JOIN policy_hours h ON h.grp = d.grp AND h.isodow = d.isodow
    CROSS JOIN LATERAL (SELECT unnest(range(h.start_min, h.end_min)) AS minute) m
    WHERE NOT EXISTS (SELECT 1 FROM policy_holidays x WHERE x.day = d.local_day)
      AND NOT EXISTS (SELECT 1 FROM policy_breaks b WHERE b.grp = d.grp AND b.isodow = d.isodow
                      AND m.minute >= b.start_min AND m.minute < b.end_min)
),
marks AS (
    SELECT DISTINCT person, local_day, CAST(floor(minute) AS BIGINT) AS minute FROM events
),
reach AS (  -- every minute within 15 minutes of a mark (a hash join, where an ASOF join was quadratic here)
    SELECT DISTINCT m.person, m.local_day, m.minute + r.offset_min AS minute
    FROM marks m CROSS JOIN (SELECT unnest(range(-15, 16)) AS offset_min) r
),
coverage AS (
    SELECT g.person, count(*) AS shift_minutes, count(r.minute) AS covered_minutes
    FROM grid g LEFT JOIN reach r ON r.person = g.person AND r.local_day = g.local_day AND r.minute = g.minute
    GROUP BY g.person
),
sources AS (
    SELECT person, count(DISTINCT tool) AS n_tools, count(DISTINCT kind) AS n_kinds,
           list(DISTINCT tool ORDER BY tool) AS tools, list(DISTINCT agent ORDER BY agent) AS identifiers,
           count(DISTINCT local_day) AS person_days
    FROM events GROUP BY person
)
SELECT '*' AS tool, s.person AS agent, s.n_tools, s.n_kinds, s.tools, s.identifiers, s.person_days,
       coalesce(c.shift_minutes, 0) AS shift_minutes,
       coalesce(c.covered_minutes, 0) AS covered_minutes,
       c.covered_minutes / nullif(c.shift_minutes, 0) AS coverage_share
FROM sources s
LEFT JOIN coverage c USING (person)
