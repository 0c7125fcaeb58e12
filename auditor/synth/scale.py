"""Large synthetic exports for benchmarks: a year of a big employer, written at disk speed.

``World`` (world.py) is realistic but builds every row as a Python object, which takes minutes for
millions of rows. These generators write the same layouts as the parsers' ``render`` (positions-csv,
squid-native, qmatic-statdb-csv) from one DuckDB query each: values come from ``hash(row, seed)``, so a
seed and a size give the same bytes, and the output order is the row order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

#: Row count → SQL of the rows, in the layout's column order; ``$n``, ``$agents`` and ``$seed`` are bound.
_POSITIONS = """
WITH r AS (
  SELECT i, i % $agents AS a, i // $agents AS k, hash(i, $seed) AS h FROM range($n) t(i)
)
SELECT
  'agent' || lpad(CAST(a AS VARCHAR), 5, '0') AS agent,
  strftime(TIMESTAMP '2025-01-01 07:30:00' + to_days(CAST(k // 14 AS INTEGER))
           + to_seconds(CAST((k % 14) * 2100 + h % 1800 AS BIGINT)), '%d/%m/%Y %H:%M:%S') AS horodatage,
  replace(printf('%.6f', CAST(45.70 + (h % 200000) / 1e6 + a / 1e4 AS DOUBLE)), '.', ',') AS latitude,
  replace(printf('%.6f', CAST(4.80 + (h // 200000 % 200000) / 1e6 + a / 1e4 AS DOUBLE)), '.', ',') AS longitude,
  replace(printf('%.1f', CAST(3 + h // 7 % 40 AS DOUBLE)), '.', ',') AS "précision",
  replace(printf('%.2f', CAST((h // 11 % 1500) / 100 AS DOUBLE)), '.', ',') AS vitesse,
  '' AS altitude,
  'TEL-' || lpad(CAST(a * 7 AS VARCHAR), 6, '0') AS appareil,
  CASE h % 3 WHEN 0 THEN 'gps' WHEN 1 THEN 'network' ELSE 'fused' END AS source,
  '' AS "activité"
FROM r ORDER BY i
"""

_SQUID = """
WITH r AS (
  SELECT i, hash(i, $seed) AS h, i % $agents AS a FROM range($n) t(i)
), d(j, site) AS (VALUES (0, 'www.service-public.fr/particuliers/vosdroits/F2313'), (1, 'www.caf.fr/allocataires'),
  (2, 'www.ameli.fr/assure/remboursements'), (3, 'intranet.departement.local/annuaire'),
  (4, 'www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000031'), (5, 'www.doctolib.fr/medecin-generaliste/lyon'),
  (6, 'www.indeed.fr/emplois?q=assistante+sociale'), (7, 'www.lemonde.fr/societe/'))
SELECT
  printf('%d.%03d %6d 10.%d.%d.%d %s/%03d %d %s %s %s %s %s',
    1735689600 + (i * 31536000) // $n, h % 1000, h // 1000 % 5000,
    a // 65536 % 256, a // 256 % 256, a % 256,
    CASE WHEN h % 10 = 0 THEN 'TCP_TUNNEL' WHEN h % 10 < 4 THEN 'TCP_HIT' ELSE 'TCP_MISS' END,
    CASE WHEN h % 50 = 0 THEN 404 ELSE 200 END,
    h // 7 % 300000,
    CASE WHEN h % 10 = 0 THEN 'CONNECT' ELSE 'GET' END,
    CASE WHEN h % 10 = 0 THEN split_part(site, '/', 1) || ':443' ELSE 'http://' || site END,
    'agent' || lpad(CAST(a AS VARCHAR), 5, '0'),
    'HIER_DIRECT/203.0.113.10',
    CASE WHEN h % 10 = 0 THEN '-' ELSE 'text/html' END) AS line
FROM r JOIN d ON d.j = r.h // 13 % 8 ORDER BY i
"""

_QMATIC = """
WITH r AS (
  SELECT i, hash(i, $seed) AS h, i % $agents AS a,
         TIMESTAMP '2025-01-02 08:30:00' + to_days(CAST(i * 365 // $n AS INTEGER))
         + to_seconds(CAST(hash(i, $seed) % 30000 AS BIGINT)) AS t
  FROM range($n) t(i)
)
SELECT
  'Site ' || CAST(a % 40 AS VARCHAR) AS "NAME", year(t) AS "YEAR", month(t) AS "MONTH", day(t) AS "DAY",
  hour(t) AS "HOUR", minute(t) AS "MINUTE", NULL AS "STAFF FIRST_NAME", NULL AS "STAFF LAST_NAME",
  CASE WHEN h % 20 = 0 THEN NULL ELSE 'agent' || lpad(CAST(a AS VARCHAR), 5, '0') END AS "Staff User Name",
  'Usager ' || CAST(h % 100000 AS VARCHAR) AS "CUSTOMER NAME", NULL AS "Customer ID",
  CASE h % 4 WHEN 0 THEN 'Accueil' WHEN 1 THEN 'Aides financières' WHEN 2 THEN 'Domiciliation'
       ELSE 'Rendez-vous social' END AS "Service Category",
  'Guichet ' || CAST(1 + h // 5 % 6 AS VARCHAR) AS "Unit", 60 * (h // 3 % 60) AS "WAITING_TIME", NULL AS "VISIT_KEY",
  'T-' || lpad(CAST(i AS VARCHAR), 8, '0') AS "TICKET_ID",
  CASE WHEN h % 9 = 0 THEN 'absent' ELSE 'servi' END AS "DELIVERED_SERVICE"
FROM r ORDER BY i
"""

#: format → (file name, query, COPY options)
LAYOUTS: dict[str, tuple[str, str, str]] = {
    "positions-csv": ("positions.csv", _POSITIONS, "HEADER true, DELIMITER ';', QUOTE ''"),
    "squid-native": ("access.log", _SQUID, "HEADER false, DELIMITER '\t', QUOTE ''"),
    "qmatic-statdb-csv": ("qmatic_statdb.csv", _QMATIC, "HEADER true, DELIMITER ','"),
}


def write(fmt: str, rows: int, out: Path, *, agents: int = 2000, seed: int = 7,
          on_step: Callable[[str], None] | None = None) -> Path:
    """Write ``rows`` rows of ``fmt`` into folder ``out`` and return the file's path."""
    name, query, options = LAYOUTS[fmt]
    out.mkdir(parents=True, exist_ok=True)
    target = out / name
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")  # DuckDB's bar goes to stdout
        sql = query.replace("$n", str(int(rows))).replace("$agents", str(int(agents)))
        sql = sql.replace("$seed", str(int(seed)))
        quoted = str(target).replace("'", "''")
        con.execute(f"COPY ({sql}) TO '{quoted}' (FORMAT csv, {options})")
    finally:
        con.close()
    if on_step:
        on_step(str(target))
    return target
