-- metric: lexicon_hits
-- grain: kind, tool, agent, field, lexicon
-- fr: Combien de valeurs d'un champ texte (motif, service, acte, commentaire, action…) contiennent un
--   mot d'un lexique (santé, syndicat, religion, recherche d'emploi, appréciations péjoratives,
--   classement, alertes, captures d'écran, émotions, vidéo, consultation de journaux…) et lesquels
--   (matched_terms, au plus 5 : ce sont des mots du lexique, jamais le texte de l'export).
--   own_entry dit si l'entrée concerne l'agent lui-même (créneau sans personne reçue).
-- en: How many values of a text field (reason, service, act, comment, action…) contain a word of a
--   lexicon (health, union, religion, job search, pejorative assessments, ranking, alerts, screenshots,
--   emotions, video, log consultation…) and which ones (matched_terms, at most 5: lexicon words, never
--   the export's text). own_entry says whether the entry is about the agent themself (a slot with no
--   person received).
WITH distinct_texts AS (
    SELECT kind, tool, agent, field, own_entry, norm, sum(n) AS n
    FROM texts GROUP BY ALL
),
hits AS (  -- each distinct text is matched once, whatever the number of agents who have it
    SELECT t.norm, l.lexicon, trim(regexp_extract(t.norm, l.pattern, 0)) AS term
    FROM (SELECT DISTINCT norm FROM distinct_texts) t JOIN lexicon_patterns l ON regexp_matches(t.norm, l.pattern)
),
matched AS (
    SELECT d.kind, d.tool, d.agent, d.field, d.own_entry, h.lexicon, d.n, h.term
    FROM distinct_texts d JOIN hits h USING (norm)
),
totals AS (
    SELECT kind, tool, agent, field, own_entry, CAST(sum(n) AS BIGINT) AS n_values FROM distinct_texts GROUP BY ALL
)
SELECT m.kind, m.tool, m.agent, m.field, m.own_entry, m.lexicon,
       any_value(t.n_values) AS n_values,
       CAST(sum(m.n) AS BIGINT) AS n_hits,
       list_slice(list_sort(list_distinct(list(m.term))), 1, 5) AS matched_terms
FROM matched m
JOIN totals t USING (kind, tool, agent, field, own_entry)
GROUP BY m.kind, m.tool, m.agent, m.field, m.own_entry, m.lexicon
