-- metric: time_windows
-- grain: kind, tool, agent
-- fr: Où tombent les enregistrements dans l'horaire déclaré (ou, à défaut, l'horaire par défaut) :
--   nombre et part pendant le service, hors des heures de travail, pendant les pauses, les jours de
--   repos (dont week-ends) et les jours fériés, et pendant les heures de délégation déclarées.
--   Chaque enregistrement compte dans une seule catégorie (férié, puis repos, puis pause, puis hors
--   horaires) ; n_weekend et n_delegation sont comptés à part.
-- en: Where records fall in the declared schedule (or the default one): count and share in shift,
--   outside working hours, in breaks, on rest days (weekends included) and public holidays, and in
--   declared delegation hours. Each record counts in one category only (holiday, then rest day, then
--   break, then outside hours); n_weekend and n_delegation are counted separately.
SELECT kind, tool, agent,
       count(*) AS n_records,
       count(*) FILTER (WHERE slot = 'shift') AS n_in_shift,
       count(*) FILTER (WHERE slot = 'off_hours') AS n_off_hours,
       count(*) FILTER (WHERE slot = 'break') AS n_in_break,
       count(*) FILTER (WHERE slot = 'rest_day') AS n_rest_day,
       count(*) FILTER (WHERE slot = 'holiday') AS n_holiday,
       count(*) FILTER (WHERE is_weekend) AS n_weekend,
       count(*) FILTER (WHERE in_delegation) AS n_delegation,
       count(*) FILTER (WHERE slot IN ('off_hours', 'rest_day', 'holiday')) AS n_outside_work,
       count(*) FILTER (WHERE slot IN ('off_hours', 'rest_day', 'holiday')) / count(*) AS share_outside_work,
       count(*) FILTER (WHERE slot = 'break') / count(*) AS share_in_break,
       count(*) FILTER (WHERE is_weekend) / count(*) AS share_weekend,
       count(*) FILTER (WHERE slot = 'holiday') / count(*) AS share_holiday
FROM events
GROUP BY kind, tool, agent
