-- metric: web_urls
-- grain: tool, agent
-- fr: Ce que le journal du proxy garde des pages visitées par chaque agent : nombre de requêtes, de
--   sites (domaines) distincts, part des lignes qui gardent l'adresse complète (un chemin ou des
--   paramètres après le nom du site, pas seulement le site), et nombre de requêtes touchant une
--   catégorie sensible (santé, syndicat, religion, recherche d'emploi) selon les lexiques.
-- en: What the proxy log keeps about the pages each agent visited: number of requests, of distinct
--   sites (domains), share of lines keeping the full address (a path or parameters after the site
--   name, not only the site), and number of requests touching a sensitive category (health, union,
--   religion, job search) according to the lexicons.
WITH req AS (
    SELECT tool, agent, domain, url,
           regexp_replace(coalesce(url, ''), '^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*', '') AS rest
    FROM web_requests
    WHERE agent IS NOT NULL
),
normalised AS (
    SELECT tool, agent,
           ' ' || trim(regexp_replace(replace(strip_accents(lower(
               coalesce(url, '') || ' ' || coalesce(domain, '') || ' ' || coalesce(category, ''))), 'œ', 'oe'),
               '[^a-z0-9]+', ' ', 'g')) || ' ' AS norm,
           count(*) AS n
    FROM web_requests WHERE agent IS NOT NULL
    GROUP BY ALL
),
matched AS (
    SELECT d.tool, d.agent, d.norm, any_value(d.n) AS n, list(DISTINCT l.lexicon) AS lexicons
    FROM normalised d
    JOIN lexicon_patterns l ON l.lexicon IN ('health', 'union', 'religion', 'job_search')
                            AND regexp_matches(d.norm, l.pattern)
    GROUP BY d.tool, d.agent, d.norm
),
sensitive AS (
    SELECT tool, agent, CAST(sum(n) AS BIGINT) AS n_sensitive, list_sort(list_distinct(flatten(list(lexicons)))) AS sensitive_lexicons
    FROM matched GROUP BY ALL
)
SELECT r.tool, r.agent,
       count(*) AS n_requests,
       count(DISTINCT r.domain) AS distinct_domains,
       count(*) FILTER (WHERE r.rest NOT IN ('', '/')) AS n_full_url,
       count(*) FILTER (WHERE r.rest NOT IN ('', '/')) / count(*) AS full_url_share,
       coalesce(any_value(s.n_sensitive), 0) AS n_sensitive,
       any_value(s.sensitive_lexicons) AS sensitive_lexicons
FROM req r
LEFT JOIN sensitive s ON s.tool = r.tool AND s.agent = r.agent
GROUP BY r.tool, r.agent
