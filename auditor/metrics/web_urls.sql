-- metric: web_urls
-- grain: tool, agent
-- empty-without: web_requests
-- fr: Ce que le journal du proxy garde des pages visitées par chaque agent : nombre de requêtes, de
--   sites (domaines) distincts, part des lignes qui gardent l'adresse complète (un chemin ou des
--   paramètres après le nom du site, pas seulement le site), et nombre de requêtes touchant une
--   catégorie sensible (santé, syndicat, religion, recherche d'emploi) selon les lexiques.
-- en: What the proxy log keeps about the pages each agent visited: number of requests, of distinct
--   sites (domains), share of lines keeping the full address (a path or parameters after the site
--   name, not only the site), and number of requests touching a sensitive category (health, union,
--   religion, job search) according to the lexicons.
WITH raw AS (  -- each distinct address is normalised and matched once: proxy logs repeat them endlessly
    SELECT tool, agent, url, domain, category, count(*) AS n
    FROM web_requests
    WHERE agent IS NOT NULL
    GROUP BY ALL
),
req AS (
    SELECT tool, agent, domain, n,
           regexp_replace(coalesce(url, ''), '^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*', '') AS rest,
           ' ' || trim(regexp_replace(replace(strip_accents(lower(
               coalesce(url, '') || ' ' || coalesce(domain, '') || ' ' || coalesce(category, ''))), 'œ', 'oe'),
               '[^a-z0-9]+', ' ', 'g')) || ' ' AS norm
    FROM raw
),
norm_hits AS (
    SELECT t.norm, list(DISTINCT l.lexicon) AS lexicons
    FROM (SELECT DISTINCT norm FROM req) t
    JOIN lexicon_patterns l ON l.lexicon IN ('health', 'union', 'religion', 'job_search')
                            AND regexp_matches(t.norm, l.pattern)
    GROUP BY t.norm
),
sensitive AS (
    SELECT r.tool, r.agent, CAST(sum(r.n) AS BIGINT) AS n_sensitive,
           list_sort(list_distinct(flatten(list(h.lexicons)))) AS sensitive_lexicons
    FROM req r JOIN norm_hits h USING (norm)
    GROUP BY ALL
),
per_agent AS (
    SELECT tool, agent,
           CAST(sum(n) AS BIGINT) AS n_requests,
           count(DISTINCT domain) AS distinct_domains,
           CAST(coalesce(sum(n) FILTER (WHERE rest NOT IN ('', '/')), 0) AS BIGINT) AS n_full_url
    FROM req GROUP BY tool, agent
)
SELECT a.tool, a.agent, a.n_requests, a.distinct_domains, a.n_full_url,
       a.n_full_url / a.n_requests AS full_url_share,
       coalesce(s.n_sensitive, 0) AS n_sensitive,
       s.sensitive_lexicons
FROM per_agent a
LEFT JOIN sensitive s ON s.tool = a.tool AND s.agent = a.agent
