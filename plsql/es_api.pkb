CREATE OR REPLACE PACKAGE BODY es_api AS
  g_account_id  NUMBER;
  g_address     VARCHAR2(320 CHAR);
  -- the calling schema that set the account: another caller in the same session is checked again
  g_set_by      VARCHAR2(128 CHAR);

  PROCEDURE fail (p_code IN PLS_INTEGER, p_message IN VARCHAR2) IS
  BEGIN
    RAISE_APPLICATION_ERROR(p_code, SUBSTR(p_message, 1, 2000));
  END fail;

  -- The calling schema: the owner of the nearest stored PL/SQL unit outside this schema on the
  -- call stack (a trigger's or a procedure's owner); for an anonymous block, or a call from SQL,
  -- the session user.
  FUNCTION caller RETURN VARCHAR2 IS
    v_owner VARCHAR2(128 CHAR);
  BEGIN
    FOR i IN 2 .. UTL_CALL_STACK.DYNAMIC_DEPTH LOOP
      v_owner := UTL_CALL_STACK.OWNER(i);
      EXIT WHEN v_owner IS NULL;
      IF v_owner <> $$PLSQL_UNIT_OWNER THEN
        RETURN v_owner;
      END IF;
    END LOOP;
    RETURN SYS_CONTEXT('USERENV', 'SESSION_USER');
  END caller;

  FUNCTION is_owner RETURN BOOLEAN IS
  BEGIN
    RETURN caller = $$PLSQL_UNIT_OWNER;
  END is_owner;

  FUNCTION find_account (p_address IN VARCHAR2) RETURN NUMBER IS
    v_at     PLS_INTEGER := INSTR(p_address, '@', -1);
    v_local  VARCHAR2(256 CHAR);
    v_domain VARCHAR2(255 CHAR);
    v_id     NUMBER;
  BEGIN
    IF p_address IS NULL OR v_at < 2 THEN
      RETURN NULL;
    END IF;
    v_local := LOWER(TRIM(SUBSTR(p_address, 1, v_at - 1)));
    v_domain := LOWER(RTRIM(TRIM(SUBSTR(p_address, v_at + 1)), '.'));
    SELECT a.object_id
      INTO v_id
      FROM es_domain d
      JOIN es_dir_object o ON o.domain_id = d.domain_id
      JOIN es_account a ON a.object_id = o.object_id
     WHERE d.qualified_name = v_domain
       AND o.owner_scope = 0
       AND o.name_key = v_local;
    RETURN v_id;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      RETURN NULL;
  END find_account;

  FUNCTION address_of (p_account_id IN NUMBER) RETURN VARCHAR2 IS
    v_address VARCHAR2(320 CHAR);
  BEGIN
    SELECT o.object_name || '@' || d.qualified_name
      INTO v_address
      FROM es_dir_object o
      JOIN es_domain d ON d.domain_id = o.domain_id
     WHERE o.object_id = p_account_id;
    RETURN v_address;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      RETURN NULL;
  END address_of;

  FUNCTION may_act_as (p_account_id IN NUMBER) RETURN NUMBER IS
    v_user VARCHAR2(128 CHAR) := caller;
    v_n    NUMBER;
  BEGIN
    IF is_owner THEN
      RETURN 1;
    END IF;
    SELECT COUNT(*)
      INTO v_n
      FROM es_api_user u
     WHERE u.db_user = v_user
       AND (u.account_id = p_account_id OR u.account_id IS NULL);
    RETURN CASE WHEN v_n > 0 THEN 1 ELSE 0 END;
  END may_act_as;

  FUNCTION is_admin RETURN NUMBER IS
    v_user VARCHAR2(128 CHAR) := caller;
    v_n    NUMBER;
  BEGIN
    IF is_owner THEN
      RETURN 1;
    END IF;
    SELECT COUNT(*)
      INTO v_n
      FROM es_api_user u
     WHERE u.db_user = v_user
       AND u.may_admin = 1;
    RETURN CASE WHEN v_n > 0 THEN 1 ELSE 0 END;
  END is_admin;

  PROCEDURE require_admin IS
  BEGIN
    IF is_admin = 0 THEN
      fail(c_not_allowed, 'the Oracle user ' || caller || ' may not administer esmail (es_api_user.may_admin)');
    END IF;
  END require_admin;

  FUNCTION rule_visible (p_owner_kind IN VARCHAR2, p_account_id IN NUMBER) RETURN NUMBER IS
  BEGIN
    IF is_admin = 1 THEN
      RETURN 1;
    END IF;
    IF p_owner_kind = 'ACCOUNT' AND p_account_id IS NOT NULL THEN
      RETURN may_act_as(p_account_id);
    END IF;
    RETURN 0;
  END rule_visible;

  PROCEDURE use_account (p_account_id IN NUMBER, p_what IN VARCHAR2) IS
    v_status VARCHAR2(16 CHAR);
  BEGIN
    SELECT a.account_status
      INTO v_status
      FROM es_account a
     WHERE a.object_id = p_account_id;
    IF v_status <> 'ENABLED' THEN
      fail(c_not_allowed, 'the account ' || p_what || ' is disabled');
    END IF;
    IF may_act_as(p_account_id) = 0 THEN
      fail(c_not_allowed, 'the Oracle user ' || caller || ' may not act as ' || p_what || ' (es_api_user)');
    END IF;
    g_account_id := p_account_id;
    g_address := address_of(p_account_id);
    g_set_by := caller;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      fail(c_not_found, 'no account ' || p_what);
  END use_account;

  PROCEDURE set_account (p_address IN VARCHAR2) IS
    v_id NUMBER := find_account(p_address);
  BEGIN
    IF v_id IS NULL THEN
      fail(c_not_found, 'no account ' || p_address);
    END IF;
    use_account(v_id, p_address);
  END set_account;

  PROCEDURE set_account_id (p_account_id IN NUMBER) IS
  BEGIN
    use_account(p_account_id, NVL(address_of(p_account_id), TO_CHAR(p_account_id)));
  END set_account_id;

  PROCEDURE clear_account IS
  BEGIN
    g_account_id := NULL;
    g_address := NULL;
    g_set_by := NULL;
  END clear_account;

  FUNCTION account_id RETURN NUMBER IS
    v_caller VARCHAR2(128 CHAR);
  BEGIN
    IF g_account_id IS NULL THEN
      fail(c_no_account, 'no account: call IOSEND.AUTHENTICATE or IM_API.Authenticate first');
    END IF;
    v_caller := caller;
    IF v_caller <> g_set_by THEN
      IF may_act_as(g_account_id) = 0 THEN
        fail(c_not_allowed, 'the Oracle user ' || v_caller || ' may not act as ' || g_address || ' (es_api_user)');
      END IF;
      g_set_by := v_caller;
    END IF;
    RETURN g_account_id;
  END account_id;

  FUNCTION account_address RETURN VARCHAR2 IS
    v_id NUMBER := account_id;
  BEGIN
    RETURN g_address;
  END account_address;

  FUNCTION check_line (p_what IN VARCHAR2, p_value IN VARCHAR2, p_max IN PLS_INTEGER) RETURN VARCHAR2 IS
  BEGIN
    IF p_value IS NULL THEN
      RETURN NULL;
    END IF;
    IF LENGTH(p_value) > p_max THEN
      fail(c_invalid, p_what || ': at most ' || p_max || ' characters');
    END IF;
    IF REGEXP_LIKE(REPLACE(p_value, CHR(9)), '[[:cntrl:]]') THEN
      fail(c_invalid, p_what || ': one line of text without control characters');
    END IF;
    RETURN p_value;
  END check_line;

  FUNCTION check_address (p_what IN VARCHAR2, p_address IN VARCHAR2) RETURN VARCHAR2 IS
    v_a      VARCHAR2(4000 CHAR) := TRIM(p_address);
    v_at     PLS_INTEGER;
    v_local  VARCHAR2(4000 CHAR);
    v_domain VARCHAR2(4000 CHAR);
  BEGIN
    v_at := INSTR(v_a, '@', -1);
    IF v_a IS NULL OR v_at < 2 OR LENGTHB(v_a) > 254
       OR REGEXP_LIKE(v_a, '[[:space:][:cntrl:]]') THEN
      fail(c_invalid, p_what || '=' || SUBSTR(p_address, 1, 300) || ': expected an address name@domain');
    END IF;
    v_local := SUBSTR(v_a, 1, v_at - 1);
    v_domain := LOWER(RTRIM(SUBSTR(v_a, v_at + 1), '.'));
    IF LENGTHB(v_local) > 64 OR v_domain IS NULL
       OR NOT REGEXP_LIKE(v_domain, '^[^].@[]+(\.[^].@[]+)*$') THEN
      fail(c_invalid, p_what || '=' || SUBSTR(p_address, 1, 300) || ': expected an address name@domain');
    END IF;
    RETURN v_local || '@' || v_domain;
  END check_address;

  FUNCTION check_header_name (p_what IN VARCHAR2, p_name IN VARCHAR2) RETURN VARCHAR2 IS
    v_name VARCHAR2(4000 CHAR) := RTRIM(TRIM(p_name), ':');
    v_code PLS_INTEGER;
  BEGIN
    IF v_name IS NULL OR LENGTH(v_name) > 128 THEN
      fail(c_invalid, p_what || '=' || SUBSTR(p_name, 1, 200) || ': expected a header field name (printable ASCII without '':'' or spaces)');
    END IF;
    FOR i IN 1 .. LENGTH(v_name) LOOP
      v_code := ASCII(SUBSTR(v_name, i, 1));
      IF v_code < 33 OR v_code > 126 OR v_code = 58 THEN
        fail(c_invalid, p_what || '=' || SUBSTR(p_name, 1, 200) || ': expected a header field name (printable ASCII without '':'' or spaces)');
      END IF;
    END LOOP;
    RETURN v_name;
  END check_header_name;

  FUNCTION check_folder (p_folder IN VARCHAR2) RETURN VARCHAR2 IS
    v_f VARCHAR2(4000 CHAR) := TRIM(p_folder);
  BEGIN
    IF v_f IS NULL THEN
      fail(c_invalid, 'folder: empty mailbox name');
    END IF;
    IF UPPER(SUBSTR(v_f, 1, 5)) = 'INBOX' AND (LENGTH(v_f) = 5 OR SUBSTR(v_f, 6, 1) = '/') THEN
      v_f := 'INBOX' || SUBSTR(v_f, 6);
    END IF;
    IF LENGTHB(v_f) > 255 THEN
      fail(c_invalid, 'folder ' || SUBSTR(v_f, 1, 300) || ': mailbox name too long');
    END IF;
    IF REGEXP_LIKE(v_f, '[[:cntrl:]*%]') THEN
      fail(c_invalid, 'folder ' || v_f || ': invalid character in mailbox name');
    END IF;
    IF SUBSTR(v_f, 1, 1) = '/' OR SUBSTR(v_f, -1) = '/' OR INSTR(v_f, '//') > 0 THEN
      fail(c_invalid, 'folder ' || v_f || ': empty level in mailbox name');
    END IF;
    IF REGEXP_COUNT(v_f, '/') >= 32 THEN
      fail(c_invalid, 'folder ' || v_f || ': mailbox hierarchy too deep');
    END IF;
    RETURN v_f;
  END check_folder;

  FUNCTION new_guid RETURN VARCHAR2 IS
  BEGIN
    RETURN LOWER(REGEXP_REPLACE(RAWTOHEX(SYS_GUID()),
                                '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '\1-\2-\3-\4-\5'));
  END new_guid;

  FUNCTION local_node_id RETURN NUMBER IS
    v_value VARCHAR2(4000 CHAR);
  BEGIN
    SELECT s.setting_value
      INTO v_value
      FROM es_setting s
     WHERE s.setting_name = 'local_node_id';
    RETURN TO_NUMBER(v_value);
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      fail(c_not_found, 'the store has no node yet: run `esmail init --domain NAME` first');
  END local_node_id;

  FUNCTION now_utc RETURN TIMESTAMP WITH TIME ZONE IS
  BEGIN
    RETURN SYSTIMESTAMP AT TIME ZONE '+00:00';
  END now_utc;
END es_api;
/
