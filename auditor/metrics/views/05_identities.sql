-- view: identities
-- fr: Chaque identifiant vu dans les exports (par outil), avec la personne à laquelle la déclaration de
--   l'employeur le rattache (table d'identité, pour cet outil ou pour tous) — sans rattachement,
--   l'identifiant est sa propre personne — et le groupe horaire de cette personne (ou de l'identifiant,
--   ou le groupe par défaut).
-- en: Every identifier seen in the exports (per tool), with the person the employer's declaration
--   links it to (identity map, for this tool or for all) — an identifier the map does not know is a
--   person of its own — and that person's working-hours group (or the identifier's, or the default).
WITH seen AS (
    SELECT tool, agent FROM appointments
    UNION SELECT tool, agent FROM queue_tickets
    UNION SELECT tool, agent FROM positions
    UNION SELECT tool, agent FROM web_requests
    UNION SELECT tool, agent FROM clock_events
    UNION SELECT tool, agent FROM care_acts
    UNION SELECT tool, agent FROM case_actions
    UNION SELECT tool, agent FROM activity_events
),
linked AS (
    SELECT s.tool, s.agent, coalesce(exact.person, anytool.person, s.agent) AS person
    FROM seen s
    LEFT JOIN policy_identity exact ON exact.agent = s.agent AND exact.tool = s.tool
    LEFT JOIN policy_identity anytool ON anytool.agent = s.agent AND anytool.tool = '*'
    WHERE s.agent IS NOT NULL
)
SELECT l.tool, l.agent, l.person, coalesce(mp.grp, ma.grp, p.default_group) AS grp
FROM linked l
CROSS JOIN policy_params p
LEFT JOIN policy_members mp ON mp.agent = l.person
LEFT JOIN policy_members ma ON ma.agent = l.agent AND l.agent <> l.person
