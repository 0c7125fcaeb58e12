-- view: delegation_minutes
-- fr: Les heures de délégation déclarées (temps syndical) minute par minute : pour chaque personne ou
--   identifiant, le jour de la semaine ou la date, et chaque minute de la journée qu'elles couvrent.
-- en: The declared delegation hours (trade-union time) minute by minute: for each person or identifier,
--   the weekday or the date, and each minute of the day they cover.
SELECT d.agent, d.isodow, d.day, CAST(m.minute AS INTEGER) AS minute
FROM policy_delegation d
CROSS JOIN range(0, 1440) m(minute)
WHERE m.minute >= d.start_min AND m.minute < d.end_min
