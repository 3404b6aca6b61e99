CREATE OR REPLACE PACKAGE es_rules AUTHID DEFINER AS
  -- Server-side rules from PL/SQL: the same rows IOFCMGR's `create rule; add cond; add clause;
  -- add action; delete rule;` write (es_rule, es_rule_clause, es_rule_action; schema step 6),
  -- with the same checks. The Postman runs the rules at delivery and checks every row again
  -- before it runs it. Nothing here commits: the rules exist once the caller commits.
  --
  -- A rule is named by its owner and its name:
  --   p_owner   'jdoe@acme.com'  an account's rule (a user rule)
  --             'acme.com'       a domain's rule, for every account of the domain
  --             'SYSTEM' or NULL a system rule, for every account of the store
  --   p_name    1 to 64 letters, digits, '-', '_', '.'; compared without regard to case
  -- Rules run in order: the system's, the domain's, then the account's, each by position.
  --
  -- Administrator procedures (the schema owner, or es_api_user.may_admin = 1):
  --   create_rule, add_cond, add_clause, add_action, delete_rule, set_active.
  -- User functions, on the rules of the session's account (IOSEND.AUTHENTICATE or
  -- IM_API.Authenticate first): EnableRule, DisableRule, DeleteRule; each returns 1 when the
  -- rule was found, 0 when the account has no such rule.
  -- The view es_rules_v lists the rules the session may see.

  c_event_delivery CONSTANT VARCHAR2(16) := 'DELIVERY';

  -- A new rule without condition (it applies to every message) and without actions yet.
  -- p_position: its place in the owner's order (default: 10 after the owner's last rule);
  -- p_active: 1 or 0.
  PROCEDURE create_rule (
    p_owner       IN VARCHAR2,
    p_name        IN VARCHAR2,
    p_description IN VARCHAR2 DEFAULT NULL,
    p_group       IN VARCHAR2 DEFAULT NULL,
    p_active      IN NUMBER   DEFAULT 1,
    p_event       IN VARCHAR2 DEFAULT 'DELIVERY',
    p_position    IN NUMBER   DEFAULT NULL);

  -- Gives the rule its condition: its clauses (add_clause) are joined by p_join, AND or OR.
  -- A rule has at most one condition.
  PROCEDURE add_cond (
    p_owner IN VARCHAR2,
    p_name  IN VARCHAR2,
    p_join  IN VARCHAR2 DEFAULT 'AND',
    p_event IN VARCHAR2 DEFAULT 'DELIVERY');

  -- Adds a clause to the rule's condition:
  --   p_on     HEADER (with p_header, the field's name), SENDER, RECIPIENT, SUBJECT, SIZE, BODY,
  --            ATTACHMENT
  --   p_op     CONTAINS, EQUALS, MATCHES (a glob: * any run, ? one character, \ escapes),
  --            GREATER, LESS (SIZE only, and SIZE only with them)
  --   p_value  the text to compare with; for SIZE bytes, or a number with K, M or G
  --   p_negated 1: the clause holds when the test fails
  PROCEDURE add_clause (
    p_owner   IN VARCHAR2,
    p_name    IN VARCHAR2,
    p_on      IN VARCHAR2,
    p_op      IN VARCHAR2,
    p_value   IN VARCHAR2,
    p_header  IN VARCHAR2 DEFAULT NULL,
    p_negated IN NUMBER   DEFAULT 0,
    p_event   IN VARCHAR2 DEFAULT 'DELIVERY');

  -- Adds an action, after the rule's other actions. p_do and its parameters:
  --   PASS                         stop: no later rule runs
  --   FORWARD  to, subject, template   a new message to `to` with the original attached
  --   BCC      to                  the same message to `to` as well
  --   COPYTO   folder              a copy in a folder of the account (created when missing)
  --   MOVETO   folder              delivered into that folder instead of the INBOX
  --   DISCARD                      accepted, not delivered
  --   REJECT   reason              refused: a failure report to the sender
  --   REPLY    days, subject, template  an auto-reply, once per sender every `days` (default 7)
  --   NOTIFY   to, subject, template    a short notice to `to`
  --   SETPROP  flag, value         SEEN, DELETED, FLAGGED, ANSWERED or DRAFT; ON (default) or OFF
  --   RUNPROC  procedure, param1, param2  a PL/SQL procedure (folder_id, msg_uid, param1,
  --                                param2) called by the Postman in its delivery transaction
  -- Subjects and templates may name {subject}, {sender}, {recipient} and {date}.
  PROCEDURE add_action (
    p_owner  IN VARCHAR2,
    p_name   IN VARCHAR2,
    p_do     IN VARCHAR2,
    p_param1 IN VARCHAR2 DEFAULT NULL,
    p_param2 IN VARCHAR2 DEFAULT NULL,
    p_param3 IN VARCHAR2 DEFAULT NULL,
    p_event  IN VARCHAR2 DEFAULT 'DELIVERY');

  -- Deletes a rule with its condition and actions.
  PROCEDURE delete_rule (
    p_owner IN VARCHAR2,
    p_name  IN VARCHAR2,
    p_event IN VARCHAR2 DEFAULT 'DELIVERY');

  -- Makes a rule active (1) or inactive (0).
  PROCEDURE set_active (
    p_owner  IN VARCHAR2,
    p_name   IN VARCHAR2,
    p_active IN NUMBER,
    p_event  IN VARCHAR2 DEFAULT 'DELIVERY');

  -- The rule's id, or NULL.
  FUNCTION rule_id (
    p_owner IN VARCHAR2,
    p_name  IN VARCHAR2,
    p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER;

  -- User functions: the session account's own rules.
  FUNCTION EnableRule (p_name IN VARCHAR2, p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER;
  FUNCTION DisableRule (p_name IN VARCHAR2, p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER;
  FUNCTION DeleteRule (p_name IN VARCHAR2, p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER;
END es_rules;
/
