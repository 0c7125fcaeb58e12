-- metric: governance
-- grain: tool
-- fr: Les dates déclarées par l'employeur pour chaque outil de l'export : mise en service,
--   consultation du comité (CST/F3SCT, CSE), analyse d'impact (AIPD). consultation_missing : aucune date
--   de consultation n'est déclarée ; consultation_late : la consultation est postérieure à la mise en
--   service. n_agents : agents présents dans l'export de l'outil.
-- en: The dates the employer declared for each tool of the export: go-live, committee consultation
--   (CST/F3SCT, CSE), data-protection impact assessment (DPIA). consultation_missing: no consultation
--   date declared; consultation_late: consultation after go-live. n_agents: agents in the tool's
--   export.
SELECT i.tool,
       count(*) AS n_agents,
       any_value(p.declared) AS policy_declared,
       any_value(p.go_live_date) AS go_live_date,
       any_value(p.consultation_date) AS consultation_date,
       any_value(p.dpia_date) AS dpia_date,
       any_value(p.consultation_date) IS NULL AS consultation_missing,
       coalesce(any_value(p.consultation_date) > any_value(p.go_live_date), FALSE) AS consultation_late,
       any_value(p.dpia_date) IS NULL AS dpia_missing
FROM identities i CROSS JOIN policy_params p
GROUP BY i.tool
