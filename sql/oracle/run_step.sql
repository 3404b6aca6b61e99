-- Runs one schema step when the schema does not have it yet (called by upgrade.sql):
--   @@run_step.sql VERSION FILE      for example  @@run_step.sql 2 V002__name.sql
-- The step runs when VERSION is greater than the highest version in es_schema_version.
SET TERMOUT OFF
COLUMN es_step NEW_VALUE es_step NOPRINT
SELECT CASE WHEN NVL(MAX(version), 0) < &1 THEN 'steps/&2' ELSE 'nothing.sql' END AS es_step
FROM es_schema_version;
SET TERMOUT ON
PROMPT Step &1 (&2): running &&es_step
@@&&es_step
