-- esmail: the view listing server-side rules (installed by install.sql and upgrade.sql after
-- the steps, with the PL/SQL packages; re-runnable). One row per rule with its owner, order,
-- state and how many clauses and actions it has. The schema owner and administrators
-- (es_api_user.may_admin) see every rule; another Oracle user sees the rules of the accounts
-- it may act as (es_api.rule_visible). The clauses and actions themselves: es_rule_clause and
-- es_rule_action, by rule_id.
CREATE OR REPLACE VIEW es_rules_v (
  rule_id, owner_kind, owner, account_id, domain_id, event_name, rule_name, position, active,
  description, group_name, cond_join, clause_count, action_count, created_at
) AS
SELECT r.rule_id,
       r.owner_kind,
       CASE r.owner_kind
         WHEN 'ACCOUNT' THEN o.object_name || '@' || ad.qualified_name
         WHEN 'DOMAIN' THEN d.qualified_name
         ELSE 'SYSTEM'
       END AS owner,
       r.account_id,
       r.domain_id,
       r.event_name,
       r.rule_name,
       r.position,
       r.active,
       r.description,
       r.group_name,
       r.cond_join,
       (SELECT COUNT(*) FROM es_rule_clause c WHERE c.rule_id = r.rule_id) AS clause_count,
       (SELECT COUNT(*) FROM es_rule_action a WHERE a.rule_id = r.rule_id) AS action_count,
       r.created_at
FROM es_rule r
LEFT JOIN es_dir_object o ON o.object_id = r.account_id
LEFT JOIN es_domain ad ON ad.domain_id = o.domain_id
LEFT JOIN es_domain d ON d.domain_id = r.domain_id
WHERE es_api.rule_visible(r.owner_kind, r.account_id) = 1;
