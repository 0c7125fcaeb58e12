-- view: minute_slots
-- fr: L'horaire déclaré minute par minute : pour chaque groupe horaire, chaque jour de la semaine et chaque
--   minute de la journée (0 à 1 439), si c'est un jour travaillé, une minute des horaires déclarés, une
--   minute de pause. Une petite table (groupes × 7 × 1 440) qui place chaque événement par une seule
--   recherche d'égalité.
-- en: The declared schedule minute by minute: for each working-hours group, weekday and minute of the day
--   (0 to 1,439), whether it is a working day, a minute of declared hours, a minute of a break. A small
--   table (groups × 7 × 1,440) that places each event by a single equality lookup.
SELECT g.grp, g.isodow, CAST(m.minute AS INTEGER) AS minute,
       EXISTS (SELECT 1 FROM policy_workdays w WHERE w.grp = g.grp AND w.isodow = g.isodow) AS is_workday,
       EXISTS (SELECT 1 FROM policy_hours h WHERE h.grp = g.grp AND h.isodow = g.isodow
               AND m.minute >= h.start_min AND m.minute < h.end_min) AS in_hours,
       EXISTS (SELECT 1 FROM policy_breaks b WHERE b.grp = g.grp AND b.isodow = g.isodow
               AND m.minute >= b.start_min AND m.minute < b.end_min) AS in_break
FROM (SELECT grp, isodow FROM policy_hours UNION SELECT grp, isodow FROM policy_breaks
      UNION SELECT grp, isodow FROM policy_workdays) g
CROSS JOIN range(0, 1440) m(minute)
