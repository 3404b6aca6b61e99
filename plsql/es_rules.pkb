CREATE OR REPLACE PACKAGE BODY es_rules AS
  -- The checks are those of the Rust side (src/rules/validate.rs, src/rules/model.rs); the
  -- table constraints of step 6 enforce the rest.

  c_max_name     CONSTANT PLS_INTEGER := 64;
  c_max_param    CONSTANT PLS_INTEGER := 1000;
  c_max_template CONSTANT PLS_INTEGER := 4000;
  c_max_operand  CONSTANT PLS_INTEGER := 4000;

  TYPE t_owner IS RECORD (
    kind        VARCHAR2(16),
    account_id  NUMBER,
    domain_id   NUMBER,
    label       VARCHAR2(400 CHAR));

  TYPE t_rule IS RECORD (
    rule_id    NUMBER,
    cond_join  VARCHAR2(3));

  PROCEDURE invalid (p_message IN VARCHAR2) IS
  BEGIN
    es_api.fail(es_api.c_invalid, p_message);
  END invalid;

  FUNCTION owner_of (p_owner IN VARCHAR2) RETURN t_owner IS
    v_owner  t_owner;
    v_text   VARCHAR2(400 CHAR) := TRIM(p_owner);
    v_domain VARCHAR2(255 CHAR);
  BEGIN
    IF v_text IS NULL OR UPPER(v_text) = 'SYSTEM' THEN
      v_owner.kind := 'SYSTEM';
      v_owner.label := 'the system';
    ELSIF INSTR(v_text, '@') > 0 THEN
      v_owner.kind := 'ACCOUNT';
      v_owner.account_id := es_api.find_account(v_text);
      IF v_owner.account_id IS NULL THEN
        es_api.fail(es_api.c_not_found, 'no account ' || v_text);
      END IF;
      v_owner.label := es_api.address_of(v_owner.account_id);
    ELSE
      v_domain := LOWER(RTRIM(v_text, '.'));
      BEGIN
        SELECT d.domain_id
          INTO v_owner.domain_id
          FROM es_domain d
         WHERE d.qualified_name = v_domain;
      EXCEPTION
        WHEN NO_DATA_FOUND THEN
          es_api.fail(es_api.c_not_found, 'no domain ' || v_domain);
      END;
      v_owner.kind := 'DOMAIN';
      v_owner.label := 'domain ' || v_domain;
    END IF;
    RETURN v_owner;
  END owner_of;

  FUNCTION account_owner RETURN t_owner IS
    v_owner t_owner;
  BEGIN
    v_owner.kind := 'ACCOUNT';
    v_owner.account_id := es_api.account_id;
    v_owner.label := es_api.account_address;
    RETURN v_owner;
  END account_owner;

  FUNCTION rule_name (p_name IN VARCHAR2) RETURN VARCHAR2 IS
    v_name VARCHAR2(4000 CHAR) := TRIM(p_name);
  BEGIN
    IF v_name IS NULL OR LENGTH(v_name) > c_max_name OR ASCIISTR(v_name) <> v_name
       OR NOT REGEXP_LIKE(v_name, '^[[:alnum:]._-]+$') THEN
      invalid('rule name ' || SUBSTR(p_name, 1, 200) || ': expected 1 to 64 letters, digits, ''-'', ''_'' or ''.''');
    END IF;
    RETURN LOWER(v_name);
  END rule_name;

  FUNCTION event_name (p_event IN VARCHAR2) RETURN VARCHAR2 IS
    v_event VARCHAR2(4000 CHAR) := UPPER(TRIM(NVL(p_event, c_event_delivery)));
  BEGIN
    IF v_event <> c_event_delivery THEN
      invalid('event ' || SUBSTR(p_event, 1, 100) || ': rules attach to DELIVERY');
    END IF;
    RETURN v_event;
  END event_name;

  FUNCTION text_value (p_what IN VARCHAR2, p_value IN VARCHAR2, p_max IN PLS_INTEGER) RETURN VARCHAR2 IS
  BEGIN
    IF p_value IS NULL THEN
      RETURN NULL;
    END IF;
    IF LENGTH(p_value) > p_max THEN
      invalid(p_what || ': at most ' || p_max || ' characters');
    END IF;
    IF REGEXP_LIKE(REPLACE(REPLACE(REPLACE(p_value, CHR(9)), CHR(10)), CHR(13)), '[[:cntrl:]]') THEN
      invalid(p_what || ': control characters are not allowed');
    END IF;
    RETURN p_value;
  END text_value;

  FUNCTION flag_value (p_what IN VARCHAR2, p_value IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    CASE LOWER(TRIM(p_value))
      WHEN 'yes' THEN RETURN 1;
      WHEN 'y' THEN RETURN 1;
      WHEN 'true' THEN RETURN 1;
      WHEN '1' THEN RETURN 1;
      WHEN 'on' THEN RETURN 1;
      WHEN 'enabled' THEN RETURN 1;
      WHEN 'no' THEN RETURN 0;
      WHEN 'n' THEN RETURN 0;
      WHEN 'false' THEN RETURN 0;
      WHEN '0' THEN RETURN 0;
      WHEN 'off' THEN RETURN 0;
      WHEN 'disabled' THEN RETURN 0;
      ELSE
        invalid(p_what || '=' || SUBSTR(p_value, 1, 100) || ': expected yes or no');
    END CASE;
    RETURN NULL;
  END flag_value;

  -- Bytes, or a number with K, M or G (times 1024, 1024^2, 1024^3).
  FUNCTION size_value (p_value IN VARCHAR2) RETURN NUMBER IS
    v_text  VARCHAR2(4000 CHAR) := UPPER(TRIM(p_value));
    v_mult  NUMBER := 1;
    v_unit  VARCHAR2(1 CHAR);
  BEGIN
    v_unit := SUBSTR(v_text, -1);
    IF v_unit IN ('K', 'M', 'G') THEN
      v_mult := CASE v_unit WHEN 'K' THEN 1024 WHEN 'M' THEN 1048576 ELSE 1073741824 END;
      v_text := TRIM(SUBSTR(v_text, 1, LENGTH(v_text) - 1));
    END IF;
    IF v_text IS NULL OR NOT REGEXP_LIKE(v_text, '^[0-9]{1,18}$') OR TO_NUMBER(v_text) * v_mult > 9223372036854775807 THEN
      invalid('size ' || SUBSTR(p_value, 1, 100) || ': expected bytes, or a number with K, M or G');
    END IF;
    RETURN TO_NUMBER(v_text) * v_mult;
  END size_value;

  FUNCTION header_name (p_value IN VARCHAR2) RETURN VARCHAR2 IS
  BEGIN
    RETURN es_api.check_header_name('header', p_value);
  END header_name;

  FUNCTION procedure_name (p_value IN VARCHAR2) RETURN VARCHAR2 IS
    v_name VARCHAR2(4000 CHAR) := TRIM(p_value);
  BEGIN
    IF v_name IS NULL OR ASCIISTR(v_name) <> v_name
       OR NOT REGEXP_LIKE(v_name, '^[[:alpha:]][[:alnum:]_$#]{0,127}(\.[[:alpha:]][[:alnum:]_$#]{0,127}){0,2}$') THEN
      invalid('procedure=' || SUBSTR(p_value, 1, 200) || ': expected a PL/SQL procedure name (name, package.name or schema.package.name)');
    END IF;
    RETURN v_name;
  END procedure_name;

  FUNCTION find_rule (p_owner IN t_owner, p_name IN VARCHAR2, p_event IN VARCHAR2) RETURN t_rule IS
    v_rule        t_rule;
    v_kind        VARCHAR2(16) := p_owner.kind;
    v_account_key NUMBER := NVL(p_owner.account_id, 0);
    v_domain_key  NUMBER := NVL(p_owner.domain_id, 0);
  BEGIN
    SELECT r.rule_id, r.cond_join
      INTO v_rule.rule_id, v_rule.cond_join
      FROM es_rule r
     WHERE r.owner_kind = v_kind
       AND NVL(r.account_id, 0) = v_account_key
       AND NVL(r.domain_id, 0) = v_domain_key
       AND r.event_name = p_event
       AND r.rule_name = p_name;
    RETURN v_rule;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      RETURN v_rule;
  END find_rule;

  FUNCTION require_rule (p_owner IN t_owner, p_name IN VARCHAR2, p_event IN VARCHAR2) RETURN t_rule IS
    v_rule t_rule := find_rule(p_owner, p_name, p_event);
  BEGIN
    IF v_rule.rule_id IS NULL THEN
      es_api.fail(es_api.c_not_found, 'no rule ' || p_name || ' of ' || p_owner.label);
    END IF;
    RETURN v_rule;
  END require_rule;

  PROCEDURE create_rule (
    p_owner       IN VARCHAR2,
    p_name        IN VARCHAR2,
    p_description IN VARCHAR2 DEFAULT NULL,
    p_group       IN VARCHAR2 DEFAULT NULL,
    p_active      IN NUMBER   DEFAULT 1,
    p_event       IN VARCHAR2 DEFAULT 'DELIVERY',
    p_position    IN NUMBER   DEFAULT NULL) IS
    v_owner       t_owner;
    v_name        VARCHAR2(64 CHAR) := rule_name(p_name);
    v_event       VARCHAR2(16) := event_name(p_event);
    v_description VARCHAR2(1000 CHAR) := es_api.check_line('description', p_description, 1000);
    v_group       VARCHAR2(128 CHAR) := es_api.check_line('group', p_group, 128);
    v_kind        VARCHAR2(16);
    v_account_key NUMBER;
    v_domain_key  NUMBER;
    v_position    NUMBER;
    v_now         TIMESTAMP WITH TIME ZONE := es_api.now_utc;
  BEGIN
    es_api.require_admin;
    v_owner := owner_of(p_owner);
    IF NVL(p_active, -1) NOT IN (0, 1) THEN
      invalid('active: 1 or 0');
    END IF;
    IF find_rule(v_owner, v_name, v_event).rule_id IS NOT NULL THEN
      es_api.fail(es_api.c_conflict, 'rule ' || v_name || ' of ' || v_owner.label || ' exists already');
    END IF;
    v_kind := v_owner.kind;
    v_account_key := NVL(v_owner.account_id, 0);
    v_domain_key := NVL(v_owner.domain_id, 0);
    IF p_position IS NOT NULL THEN
      IF p_position < 1 OR p_position > 2147483647 OR p_position <> TRUNC(p_position) THEN
        invalid('position=' || p_position || ': expected a whole number of at least 1');
      END IF;
      v_position := p_position;
    ELSE
      SELECT NVL(MAX(r.position), 0) + 10
        INTO v_position
        FROM es_rule r
       WHERE r.owner_kind = v_kind
         AND NVL(r.account_id, 0) = v_account_key
         AND NVL(r.domain_id, 0) = v_domain_key
         AND r.event_name = v_event;
    END IF;
    INSERT INTO es_rule (owner_kind, account_id, domain_id, event_name, rule_name, position, active,
                         description, group_name, cond_join, created_at)
    VALUES (v_kind, v_owner.account_id, v_owner.domain_id, v_event, v_name, v_position, p_active,
            v_description, v_group, NULL, v_now);
  EXCEPTION
    WHEN DUP_VAL_ON_INDEX THEN
      es_api.fail(es_api.c_conflict, 'rule ' || v_name || ' exists already');
  END create_rule;

  PROCEDURE add_cond (
    p_owner IN VARCHAR2,
    p_name  IN VARCHAR2,
    p_join  IN VARCHAR2 DEFAULT 'AND',
    p_event IN VARCHAR2 DEFAULT 'DELIVERY') IS
    v_rule t_rule;
    v_join VARCHAR2(3) := UPPER(TRIM(NVL(p_join, 'AND')));
  BEGIN
    es_api.require_admin;
    v_rule := require_rule(owner_of(p_owner), rule_name(p_name), event_name(p_event));
    IF v_join NOT IN ('AND', 'OR') THEN
      invalid('join=' || SUBSTR(p_join, 1, 100) || ': expected and or or');
    END IF;
    IF v_rule.cond_join IS NOT NULL THEN
      es_api.fail(es_api.c_conflict, 'rule ' || LOWER(p_name) || ' has a condition already (a rule has at most one)');
    END IF;
    UPDATE es_rule
       SET cond_join = v_join
     WHERE rule_id = v_rule.rule_id;
  END add_cond;

  PROCEDURE add_clause (
    p_owner   IN VARCHAR2,
    p_name    IN VARCHAR2,
    p_on      IN VARCHAR2,
    p_op      IN VARCHAR2,
    p_value   IN VARCHAR2,
    p_header  IN VARCHAR2 DEFAULT NULL,
    p_negated IN NUMBER   DEFAULT 0,
    p_event   IN VARCHAR2 DEFAULT 'DELIVERY') IS
    v_rule    t_rule;
    v_on      VARCHAR2(16) := UPPER(TRIM(p_on));
    v_op      VARCHAR2(16) := UPPER(TRIM(p_op));
    v_header  VARCHAR2(128 CHAR);
    v_operand VARCHAR2(4000 CHAR);
    v_no      NUMBER;
  BEGIN
    es_api.require_admin;
    v_rule := require_rule(owner_of(p_owner), rule_name(p_name), event_name(p_event));
    IF v_rule.cond_join IS NULL THEN
      invalid('rule ' || LOWER(p_name) || ' has no condition: call add_cond first');
    END IF;
    IF v_on IS NULL OR v_on NOT IN ('HEADER', 'SENDER', 'RECIPIENT', 'SUBJECT', 'SIZE', 'BODY', 'ATTACHMENT') THEN
      invalid('on=' || SUBSTR(p_on, 1, 100) || ': expected one of header, sender, recipient, subject, size, body, attachment');
    END IF;
    IF v_op IS NULL OR v_op NOT IN ('CONTAINS', 'EQUALS', 'MATCHES', 'GREATER', 'LESS') THEN
      invalid('op=' || SUBSTR(p_op, 1, 100) || ': expected one of contains, equals, matches, greater, less');
    END IF;
    IF NVL(p_negated, -1) NOT IN (0, 1) THEN
      invalid('negated: 1 or 0');
    END IF;
    IF v_on = 'HEADER' THEN
      IF TRIM(p_header) IS NULL THEN
        invalid('on=header needs header=NAME (the header field to test)');
      END IF;
      v_header := header_name(p_header);
    ELSIF TRIM(p_header) IS NOT NULL THEN
      invalid('header= goes only with on=header, not on=' || LOWER(v_on));
    END IF;
    IF v_on = 'SIZE' THEN
      IF v_op NOT IN ('GREATER', 'LESS') THEN
        invalid('on=size takes op=greater or op=less, not op=' || LOWER(v_op));
      END IF;
      v_operand := TO_CHAR(size_value(p_value));
    ELSE
      IF v_op IN ('GREATER', 'LESS') THEN
        invalid('op=' || LOWER(v_op) || ' compares sizes: it goes only with on=size, not on=' || LOWER(v_on));
      END IF;
      IF p_value IS NULL THEN
        invalid('value= is empty: give the text to compare with');
      END IF;
      v_operand := es_api.check_line('value', p_value, c_max_operand);
    END IF;
    SELECT NVL(MAX(c.clause_no), 0) + 1
      INTO v_no
      FROM es_rule_clause c
     WHERE c.rule_id = v_rule.rule_id;
    INSERT INTO es_rule_clause (rule_id, clause_no, subject_kind, header_name, operator, negated, operand)
    VALUES (v_rule.rule_id, v_no, v_on, v_header, v_op, p_negated, v_operand);
  END add_clause;

  PROCEDURE add_action (
    p_owner  IN VARCHAR2,
    p_name   IN VARCHAR2,
    p_do     IN VARCHAR2,
    p_param1 IN VARCHAR2 DEFAULT NULL,
    p_param2 IN VARCHAR2 DEFAULT NULL,
    p_param3 IN VARCHAR2 DEFAULT NULL,
    p_event  IN VARCHAR2 DEFAULT 'DELIVERY') IS
    v_rule t_rule;
    v_do   VARCHAR2(16) := UPPER(TRIM(p_do));
    v_p1   VARCHAR2(1000 CHAR);
    v_p2   VARCHAR2(1000 CHAR);
    v_p3   VARCHAR2(4000 CHAR);
    v_no   NUMBER;
  BEGIN
    es_api.require_admin;
    v_rule := require_rule(owner_of(p_owner), rule_name(p_name), event_name(p_event));
    CASE v_do
      WHEN 'PASS' THEN
        NULL;
      WHEN 'DISCARD' THEN
        NULL;
      WHEN 'FORWARD' THEN
        v_p1 := es_api.check_address('to', p_param1);
        v_p2 := es_api.check_line('subject', p_param2, c_max_param);
        v_p3 := text_value('template', p_param3, c_max_template);
      WHEN 'NOTIFY' THEN
        v_p1 := es_api.check_address('to', p_param1);
        v_p2 := es_api.check_line('subject', p_param2, c_max_param);
        v_p3 := text_value('template', p_param3, c_max_template);
      WHEN 'BCC' THEN
        v_p1 := es_api.check_address('to', p_param1);
      WHEN 'COPYTO' THEN
        v_p1 := es_api.check_folder(p_param1);
      WHEN 'MOVETO' THEN
        v_p1 := es_api.check_folder(p_param1);
      WHEN 'REJECT' THEN
        v_p1 := es_api.check_line('reason', p_param1, c_max_param);
      WHEN 'REPLY' THEN
        IF TRIM(p_param1) IS NULL THEN
          v_p1 := '7';
        ELSIF NOT REGEXP_LIKE(TRIM(p_param1), '^[0-9]{1,3}$') OR TO_NUMBER(TRIM(p_param1)) NOT BETWEEN 1 AND 365 THEN
          invalid('days=' || SUBSTR(p_param1, 1, 100) || ': expected a whole number of days from 1 to 365');
        ELSE
          v_p1 := TO_CHAR(TO_NUMBER(TRIM(p_param1)));
        END IF;
        v_p2 := es_api.check_line('subject', p_param2, c_max_param);
        v_p3 := text_value('template', p_param3, c_max_template);
      WHEN 'SETPROP' THEN
        v_p1 := UPPER(TRIM(p_param1));
        IF v_p1 IS NULL OR v_p1 NOT IN ('SEEN', 'DELETED', 'FLAGGED', 'ANSWERED', 'DRAFT') THEN
          invalid('flag=' || SUBSTR(p_param1, 1, 100) || ': expected one of seen, deleted, flagged, answered, draft');
        END IF;
        v_p2 := CASE WHEN TRIM(p_param2) IS NULL OR flag_value('value', p_param2) = 1 THEN 'ON' ELSE 'OFF' END;
      WHEN 'RUNPROC' THEN
        v_p1 := procedure_name(p_param1);
        v_p2 := es_api.check_line('param1', p_param2, c_max_param);
        v_p3 := es_api.check_line('param2', p_param3, c_max_param);
      ELSE
        invalid('do=' || SUBSTR(p_do, 1, 100) || ': expected one of pass, forward, bcc, copyto, moveto, discard, reject, reply, notify, setprop, runproc');
    END CASE;
    IF v_do IN ('FORWARD', 'NOTIFY', 'BCC', 'COPYTO', 'MOVETO', 'SETPROP', 'RUNPROC') AND v_p1 IS NULL THEN
      invalid('do=' || LOWER(v_do) || ' needs its first parameter');
    END IF;
    SELECT NVL(MAX(a.action_no), 0) + 1
      INTO v_no
      FROM es_rule_action a
     WHERE a.rule_id = v_rule.rule_id;
    INSERT INTO es_rule_action (rule_id, action_no, action_kind, param1, param2, param3)
    VALUES (v_rule.rule_id, v_no, v_do, v_p1, v_p2, v_p3);
  END add_action;

  PROCEDURE remove (p_rule_id IN NUMBER) IS
  BEGIN
    DELETE FROM es_rule_clause WHERE rule_id = p_rule_id;
    DELETE FROM es_rule_action WHERE rule_id = p_rule_id;
    DELETE FROM es_rule WHERE rule_id = p_rule_id;
  END remove;

  PROCEDURE delete_rule (
    p_owner IN VARCHAR2,
    p_name  IN VARCHAR2,
    p_event IN VARCHAR2 DEFAULT 'DELIVERY') IS
  BEGIN
    es_api.require_admin;
    remove(require_rule(owner_of(p_owner), rule_name(p_name), event_name(p_event)).rule_id);
  END delete_rule;

  PROCEDURE set_active (
    p_owner  IN VARCHAR2,
    p_name   IN VARCHAR2,
    p_active IN NUMBER,
    p_event  IN VARCHAR2 DEFAULT 'DELIVERY') IS
    v_rule t_rule;
  BEGIN
    es_api.require_admin;
    IF NVL(p_active, -1) NOT IN (0, 1) THEN
      invalid('active: 1 or 0');
    END IF;
    v_rule := require_rule(owner_of(p_owner), rule_name(p_name), event_name(p_event));
    UPDATE es_rule
       SET active = p_active
     WHERE rule_id = v_rule.rule_id;
  END set_active;

  FUNCTION rule_id (
    p_owner IN VARCHAR2,
    p_name  IN VARCHAR2,
    p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER IS
    v_owner t_owner := owner_of(p_owner);
  BEGIN
    IF v_owner.kind = 'ACCOUNT' AND es_api.may_act_as(v_owner.account_id) = 0 THEN
      es_api.require_admin;
    ELSIF v_owner.kind <> 'ACCOUNT' THEN
      es_api.require_admin;
    END IF;
    RETURN find_rule(v_owner, rule_name(p_name), event_name(p_event)).rule_id;
  END rule_id;

  FUNCTION set_own (p_name IN VARCHAR2, p_event IN VARCHAR2, p_active IN NUMBER) RETURN NUMBER IS
    v_rule t_rule := find_rule(account_owner, rule_name(p_name), event_name(p_event));
  BEGIN
    IF v_rule.rule_id IS NULL THEN
      RETURN 0;
    END IF;
    IF p_active IS NULL THEN
      remove(v_rule.rule_id);
    ELSE
      UPDATE es_rule
         SET active = p_active
       WHERE rule_id = v_rule.rule_id;
    END IF;
    RETURN 1;
  END set_own;

  FUNCTION EnableRule (p_name IN VARCHAR2, p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER IS
  BEGIN
    RETURN set_own(p_name, p_event, 1);
  END EnableRule;

  FUNCTION DisableRule (p_name IN VARCHAR2, p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER IS
  BEGIN
    RETURN set_own(p_name, p_event, 0);
  END DisableRule;

  FUNCTION DeleteRule (p_name IN VARCHAR2, p_event IN VARCHAR2 DEFAULT 'DELIVERY') RETURN NUMBER IS
  BEGIN
    RETURN set_own(p_name, p_event, NULL);
  END DeleteRule;
END es_rules;
/
