-- macro: decimals
-- fr: Le nombre de décimales d'un nombre (0 à 7 ; 8 veut dire 8 ou plus), à un millionième près pour
--   absorber l'arrondi binaire des nombres à virgule.
-- en: The number of decimals of a number (0 to 7; 8 means 8 or more), to within a millionth to absorb
--   binary floating-point rounding.
CREATE OR REPLACE TEMP MACRO decimals(x) AS
    CASE
        WHEN x IS NULL THEN NULL
        WHEN abs(x - round(x)) < 1e-6 THEN 0
        WHEN abs(x * 1e1 - round(x * 1e1)) < 1e-6 THEN 1
        WHEN abs(x * 1e2 - round(x * 1e2)) < 1e-6 THEN 2
        WHEN abs(x * 1e3 - round(x * 1e3)) < 1e-6 THEN 3
        WHEN abs(x * 1e4 - round(x * 1e4)) < 1e-6 THEN 4
        WHEN abs(x * 1e5 - round(x * 1e5)) < 1e-6 THEN 5
        WHEN abs(x * 1e6 - round(x * 1e6)) < 1e-6 THEN 6
        WHEN abs(x * 1e7 - round(x * 1e7)) < 1e-6 THEN 7
        ELSE 8
    END
