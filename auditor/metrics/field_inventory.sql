-- metric: field_inventory
-- grain: kind, tool, field
-- fr: Quels champs de la forme commune sont réellement remplis dans l'export, pour chaque outil :
--   nombre de lignes, de valeurs non vides, part non vide, la catégorie de sensibilité du champ, et si
--   l'employeur a déclaré ce champ (declared) quand il a déclaré des champs pour ce type de données
--   (kind_declared). n_agents est le nombre d'agents de l'outil, pour masquer les petits groupes.
-- en: Which canonical fields are actually filled in the export, per tool: rows, non-empty values,
--   non-empty share, the field's sensitivity class, and whether the employer declared the field
--   (declared) when it declared fields for this kind of data (kind_declared). n_agents is the number of
--   agents of the tool, so small groups can be suppressed.
WITH counts AS (
    SELECT 'appointments' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM appointments GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
    UNION ALL BY NAME
    SELECT 'queue_tickets' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM queue_tickets GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
    UNION ALL BY NAME
    SELECT 'positions' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM positions GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
    UNION ALL BY NAME
    SELECT 'web_requests' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM web_requests GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
    UNION ALL BY NAME
    SELECT 'clock_events' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM clock_events GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
    UNION ALL BY NAME
    SELECT 'care_acts' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM care_acts GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
    UNION ALL BY NAME
    SELECT 'case_actions' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM case_actions GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
    UNION ALL BY NAME
    SELECT 'activity_events' AS kind, * FROM (UNPIVOT (SELECT tool, count(*) AS "#rows", count(DISTINCT agent) AS "#agents",
        count(COLUMNS(* EXCLUDE (tool, source_file, source_row))) FROM activity_events GROUP BY tool)
        ON COLUMNS(* EXCLUDE (tool, "#rows", "#agents")) INTO NAME field VALUE n_non_null)
)
SELECT c.kind, c.tool, c.field,
       c."#rows" AS n_rows,
       c."#agents" AS n_agents,
       c.n_non_null,
       c.n_non_null / c."#rows" AS share_non_null,
       s.sensitivity,
       EXISTS (SELECT 1 FROM policy_declared_fields d WHERE d.kind = c.kind) AS kind_declared,
       EXISTS (SELECT 1 FROM policy_declared_fields d WHERE d.kind = c.kind AND d.field = c.field) AS declared
FROM counts c
LEFT JOIN schema_fields s ON s.kind = c.kind AND s.field = c.field
