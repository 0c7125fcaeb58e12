-- view: schedule
-- fr: La place de chaque événement dans l'horaire, en une seule catégorie exclusive, dans cet ordre de
--   priorité : jour férié, jour de repos (hors jours travaillés du groupe), pause déclarée, hors des
--   horaires déclarés, ou dans le service.
-- en: Where each event falls in the schedule, as one exclusive category, in this order of priority:
--   public holiday, rest day (not a working day of the group), declared break, outside declared hours,
--   or in shift.
SELECT e.*,
       CASE
           WHEN e.is_holiday THEN 'holiday'
           WHEN e.is_rest_day THEN 'rest_day'
           WHEN e.in_break THEN 'break'
           WHEN NOT e.in_hours THEN 'off_hours'
           ELSE 'shift'
       END AS slot
FROM events e
