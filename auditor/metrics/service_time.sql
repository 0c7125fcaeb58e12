-- metric: service_time
-- grain: kind, tool, agent
-- empty-without: queue_tickets, appointments, care_acts
-- fr: Le temps passé avec chaque personne reçue ou aidée, calculable à partir de l'export : de
--   l'appel du ticket (ou du début de l'entretien) à sa fin au guichet, du début à la fin d'un rendez-vous
--   avec une personne, du début à la fin d'un soin ou d'une visite. Médiane, 10e et 90e centiles.
-- en: The time spent with each person received or helped that the export allows computing: from the
--   start to the end of a counter conversation, of an appointment with a person, of a care act or
--   visit. Median, 10th and 90th percentiles.
WITH served AS (
    SELECT 'queue_tickets' AS kind, tool, agent, epoch(served_end - coalesce(served_start, called_at)) AS seconds
    FROM queue_tickets WHERE agent IS NOT NULL AND served_end IS NOT NULL
    UNION ALL
    SELECT 'appointments', tool, agent, epoch("end" - "start")
    FROM appointments WHERE person_received IS NOT NULL AND "end" IS NOT NULL AND NOT coalesce(all_day, FALSE)
    UNION ALL
    SELECT 'care_acts', tool, agent, epoch("end" - "start")
    FROM care_acts WHERE "start" IS NOT NULL AND "end" IS NOT NULL
)
SELECT kind, tool, agent,
       count(*) AS n_served,
       quantile_cont(seconds, 0.5) AS median_service_s,
       quantile_cont(seconds, 0.1) AS p10_service_s,
       quantile_cont(seconds, 0.9) AS p90_service_s
FROM served
WHERE seconds IS NOT NULL AND seconds >= 0
GROUP BY kind, tool, agent
