-- view: texts
-- grain: kind, tool, agent
-- fr: Chaque champ de texte libre ou de libellé des exports (motif du rendez-vous, service du ticket,
--   acte de soin, commentaire, adresse web, action…), mis en minuscules et sans accents pour la
--   recherche de mots des lexiques. Les valeurs vides sont ignorées. Une ligne par texte distinct d'un
--   agent, avec son nombre d'occurrences n (un export d'un an répète les mêmes libellés des millions de fois).
-- en: Every free-text or label field of the exports (appointment reason, ticket service, care act,
--   comment, web address, action…), lower-cased and stripped of accents for lexicon searches. Empty
--   values are skipped. One row per distinct text of an agent, with its number of occurrences n (a year
--   of exports repeats the same labels millions of times).
WITH raw AS (
    SELECT 'appointments' AS kind, tool, agent, 'category' AS field, category AS text,
           person_received IS NULL AS own_entry FROM appointments
    UNION ALL SELECT 'appointments', tool, agent, 'subject', subject, person_received IS NULL FROM appointments
    UNION ALL SELECT 'queue_tickets', tool, agent, 'service', service, FALSE FROM queue_tickets
    UNION ALL SELECT 'queue_tickets', tool, agent, 'outcome', outcome, FALSE FROM queue_tickets
    UNION ALL SELECT 'positions', tool, agent, 'activity', activity, TRUE FROM positions
    UNION ALL SELECT 'positions', tool, agent, 'provider', provider, TRUE FROM positions
    UNION ALL SELECT 'web_requests', tool, agent, 'url', url, TRUE FROM web_requests
    UNION ALL SELECT 'web_requests', tool, agent, 'domain', domain, TRUE FROM web_requests
    UNION ALL SELECT 'web_requests', tool, agent, 'category', category, TRUE FROM web_requests
    UNION ALL SELECT 'clock_events', tool, agent, 'method', method, TRUE FROM clock_events
    UNION ALL SELECT 'care_acts', tool, agent, 'act', act, FALSE FROM care_acts
    UNION ALL SELECT 'care_acts', tool, agent, 'method', method, TRUE FROM care_acts
    UNION ALL SELECT 'case_actions', tool, agent, 'action', action, TRUE FROM case_actions
    UNION ALL SELECT 'case_actions', tool, agent, 'comment', comment, FALSE FROM case_actions
    UNION ALL SELECT 'activity_events', tool, agent, 'application', application, TRUE FROM activity_events
    UNION ALL SELECT 'activity_events', tool, agent, 'action', action, TRUE FROM activity_events
    UNION ALL SELECT 'activity_events', tool, agent, 'object', object, TRUE FROM activity_events
    UNION ALL SELECT 'activity_events', tool, agent, 'detail', detail, TRUE FROM activity_events
),
distinct_raw AS (
    SELECT kind, tool, agent, field, own_entry, text, count(*) AS n
    FROM raw
    WHERE agent IS NOT NULL AND text IS NOT NULL
    GROUP BY ALL
)
SELECT kind, tool, agent, field, own_entry, text, n,
       ' ' || trim(regexp_replace(replace(strip_accents(lower(text)), 'œ', 'oe'), '[^a-z0-9]+', ' ', 'g')) || ' '
           AS norm
FROM distinct_raw
WHERE trim(text) <> ''
