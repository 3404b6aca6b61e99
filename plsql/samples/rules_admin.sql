-- esmail sample: server-side rules written from PL/SQL with the ES_RULES package.
--
-- Run as the esmail schema owner, or as an Oracle user with es_api_user.may_admin = 1 and
-- EXECUTE on es_rules (the role ESMAIL_API gives it). The rules exist once the transaction
-- commits; the Postman applies them to the messages it delivers from then on.

SET SERVEROUTPUT ON

BEGIN
  -- jdoe is away: an auto-reply, at most once every 7 days per sender
  es_rules.create_rule('jdoe@acme.com', 'vacation', p_description => 'Away until Monday');
  es_rules.add_action('jdoe@acme.com', 'vacation', 'REPLY',
                      p_param1 => '7',
                      p_param2 => 'Away: {subject}',
                      p_param3 => 'I am away until Monday and will read your message about'
                                  || ' "{subject}" then.');

  -- invoices to the Invoices folder, flagged, and a copy to the accounting list
  es_rules.create_rule('jdoe@acme.com', 'invoices', p_group => 'filing');
  es_rules.add_cond('jdoe@acme.com', 'invoices', 'OR');
  es_rules.add_clause('jdoe@acme.com', 'invoices', 'SUBJECT', 'CONTAINS', 'invoice');
  es_rules.add_clause('jdoe@acme.com', 'invoices', 'ATTACHMENT', 'MATCHES', '*.pdf');
  es_rules.add_action('jdoe@acme.com', 'invoices', 'MOVETO', 'Invoices');
  es_rules.add_action('jdoe@acme.com', 'invoices', 'SETPROP', 'FLAGGED', 'ON');
  es_rules.add_action('jdoe@acme.com', 'invoices', 'BCC', 'accounting@acme.com');

  -- for every account of acme.com: large messages from outside are refused
  es_rules.create_rule('acme.com', 'no-huge-mail');
  es_rules.add_cond('acme.com', 'no-huge-mail', 'AND');
  es_rules.add_clause('acme.com', 'no-huge-mail', 'SIZE', 'GREATER', '20M');
  es_rules.add_clause('acme.com', 'no-huge-mail', 'SENDER', 'MATCHES', '*@acme.com', p_negated => 1);
  es_rules.add_action('acme.com', 'no-huge-mail', 'REJECT', 'Messages over 20 MB are not accepted');

  -- for every account of the store: messages marked as spam go to Junk
  es_rules.create_rule('SYSTEM', 'spam-to-junk');
  es_rules.add_cond('SYSTEM', 'spam-to-junk');
  es_rules.add_clause('SYSTEM', 'spam-to-junk', 'HEADER', 'EQUALS', 'YES', p_header => 'X-Spam-Flag');
  es_rules.add_action('SYSTEM', 'spam-to-junk', 'MOVETO', 'Junk');
END;
/
COMMIT;

-- the rules, as the view lists them
SELECT owner, rule_name, position, active, cond_join, clause_count, action_count
  FROM es_rules_v
 ORDER BY owner_kind, owner, position;

-- jdoe, acting for itself, turns its vacation rule off and back on (user functions)
DECLARE
  v_found NUMBER;
BEGIN
  iosend.AUTHENTICATE('jdoe@acme.com');
  v_found := es_rules.DisableRule('vacation');
  DBMS_OUTPUT.PUT_LINE('vacation disabled: ' || v_found);
  v_found := es_rules.EnableRule('vacation');
  DBMS_OUTPUT.PUT_LINE('vacation enabled: ' || v_found);
END;
/
COMMIT;
