CREATE OR REPLACE PACKAGE BODY dapls AS

  PROCEDURE invalid (p_message IN VARCHAR2) IS
  BEGIN
    es_api.fail(es_api.c_invalid, p_message);
  END invalid;

  -- A value in the IOFCMGR language: double-quoted, `\` and `"` escaped with `\`.
  FUNCTION quoted (p_what IN VARCHAR2, p_value IN VARCHAR2) RETURN VARCHAR2 IS
  BEGIN
    IF REGEXP_LIKE(p_value, '[[:cntrl:]]') THEN
      invalid(p_what || ': one line of text without control characters');
    END IF;
    RETURN '"' || REPLACE(REPLACE(p_value, '\', '\\'), '"', '\"') || '"';
  END quoted;

  -- ` name="value"`, or nothing for a NULL value.
  FUNCTION arg (p_name IN VARCHAR2, p_value IN VARCHAR2) RETURN VARCHAR2 IS
  BEGIN
    IF p_value IS NULL THEN
      RETURN NULL;
    END IF;
    RETURN ' ' || p_name || '=' || quoted(p_name, p_value);
  END arg;

  FUNCTION user_class (p_class IN VARCHAR2) RETURN VARCHAR2 IS
    v_class VARCHAR2(16) := LOWER(TRIM(NVL(p_class, 'person')));
  BEGIN
    IF v_class NOT IN ('person', 'room', 'equipment') THEN
      invalid('class ' || SUBSTR(p_class, 1, 40) || ': expected person, room or equipment');
    END IF;
    RETURN v_class;
  END user_class;

  FUNCTION key_of (p_class IN VARCHAR2) RETURN VARCHAR2 IS
  BEGIN
    RETURN CASE WHEN p_class = 'person' THEN 'username' ELSE 'name' END;
  END key_of;

  FUNCTION request (p_statement IN VARCHAR2) RETURN NUMBER IS
    v_caller VARCHAR2(128 CHAR) := es_api.caller;
    v_now    TIMESTAMP WITH TIME ZONE := es_api.now_utc;
    v_text   VARCHAR2(4000 CHAR);
    v_id     NUMBER;
  BEGIN
    es_api.require_admin;
    IF LENGTH(p_statement) > 3990 THEN
      invalid('the statement is longer than 3990 characters');
    END IF;
    v_text := RTRIM(TRIM(p_statement), ';') || ';';
    INSERT INTO es_admin_request (statement_text, request_state, attempts, requested_by, created_at)
    VALUES (v_text, 'PENDING', 0, v_caller, v_now)
    RETURNING request_id INTO v_id;
    RETURN v_id;
  END request;

  FUNCTION CreateUser (
    p_username      IN VARCHAR2,
    p_domain        IN VARCHAR2 DEFAULT NULL,
    p_password_hash IN VARCHAR2 DEFAULT NULL,
    p_firstname     IN VARCHAR2 DEFAULT NULL,
    p_lastname      IN VARCHAR2 DEFAULT NULL,
    p_displayname   IN VARCHAR2 DEFAULT NULL,
    p_quota_bytes   IN NUMBER   DEFAULT NULL,
    p_enabled       IN NUMBER   DEFAULT 1,
    p_class         IN VARCHAR2 DEFAULT 'person') RETURN NUMBER IS
    v_class VARCHAR2(16) := user_class(p_class);
  BEGIN
    IF p_username IS NULL THEN
      invalid('CreateUser needs a user name');
    END IF;
    IF p_password_hash IS NOT NULL AND SUBSTR(p_password_hash, 1, 7) <> '$argon2' THEN
      invalid('p_password_hash: an argon2 PHC string ($argon2id$v=19$...), never a clear password');
    END IF;
    IF p_quota_bytes IS NOT NULL AND (p_quota_bytes < 0 OR p_quota_bytes <> TRUNC(p_quota_bytes)) THEN
      invalid('p_quota_bytes: a whole number of bytes, 0 for no limit');
    END IF;
    IF NVL(p_enabled, -1) NOT IN (0, 1) THEN
      invalid('p_enabled: 1 or 0');
    END IF;
    IF v_class <> 'person' AND (p_firstname IS NOT NULL OR p_lastname IS NOT NULL OR p_displayname IS NOT NULL) THEN
      invalid('a ' || v_class || ' has no first, last or display name');
    END IF;
    RETURN request('create ' || v_class
                   || arg(key_of(v_class), p_username)
                   || arg('domain', p_domain)
                   || arg('passwordhash', p_password_hash)
                   || arg('firstname', p_firstname)
                   || arg('lastname', p_lastname)
                   || arg('displayname', p_displayname)
                   || arg('quota', TO_CHAR(p_quota_bytes))
                   || arg('status', CASE WHEN p_enabled = 1 THEN 'enabled' ELSE 'disabled' END));
  END CreateUser;

  FUNCTION ModifyUser (
    p_username  IN VARCHAR2,
    p_domain    IN VARCHAR2,
    p_attribute IN VARCHAR2,
    p_value     IN VARCHAR2,
    p_class     IN VARCHAR2 DEFAULT 'person') RETURN NUMBER IS
    v_class VARCHAR2(16) := user_class(p_class);
    v_attr  VARCHAR2(64) := LOWER(TRIM(p_attribute));
  BEGIN
    IF p_username IS NULL THEN
      invalid('ModifyUser needs a user name');
    END IF;
    IF v_attr IS NULL OR ASCIISTR(v_attr) <> v_attr OR NOT REGEXP_LIKE(v_attr, '^[[:alpha:]]{1,40}$')
       OR v_attr IN ('username', 'name', 'domain') THEN
      invalid('attribute ' || SUBSTR(p_attribute, 1, 60) || ': the name of an attribute to set');
    END IF;
    IF v_attr = 'password' THEN
      invalid('password: DAPLS passes passwordhash (an argon2 PHC string), never a clear password');
    END IF;
    RETURN request('modify ' || v_class
                   || arg(key_of(v_class), p_username)
                   || arg('domain', p_domain)
                   || ' ' || v_attr || '=' || quoted(v_attr, NVL(p_value, '')));
  END ModifyUser;

  FUNCTION DeleteUser (
    p_username IN VARCHAR2,
    p_domain   IN VARCHAR2 DEFAULT NULL,
    p_class    IN VARCHAR2 DEFAULT 'person') RETURN NUMBER IS
    v_class VARCHAR2(16) := user_class(p_class);
  BEGIN
    IF p_username IS NULL THEN
      invalid('DeleteUser needs a user name');
    END IF;
    RETURN request('delete ' || v_class || arg(key_of(v_class), p_username) || arg('domain', p_domain));
  END DeleteUser;

  FUNCTION CreateList (
    p_name        IN VARCHAR2,
    p_domain      IN VARCHAR2 DEFAULT NULL,
    p_members     IN VARCHAR2 DEFAULT NULL,
    p_description IN VARCHAR2 DEFAULT NULL) RETURN NUMBER IS
  BEGIN
    IF p_name IS NULL THEN
      invalid('CreateList needs a list name');
    END IF;
    RETURN request('create publicdl' || arg('name', p_name) || arg('domain', p_domain)
                   || arg('members', p_members) || arg('description', p_description));
  END CreateList;

  FUNCTION list_members (p_verb IN VARCHAR2, p_name IN VARCHAR2, p_domain IN VARCHAR2, p_members IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    IF p_name IS NULL THEN
      invalid('the list name is missing');
    END IF;
    RETURN request('modify publicdl' || arg('name', p_name) || arg('domain', p_domain)
                   || ' ' || p_verb || '=' || quoted(p_verb, NVL(p_members, '')));
  END list_members;

  FUNCTION AddListMembers (p_name IN VARCHAR2, p_domain IN VARCHAR2, p_members IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    RETURN list_members('addmembers', p_name, p_domain, p_members);
  END AddListMembers;

  FUNCTION RemoveListMembers (p_name IN VARCHAR2, p_domain IN VARCHAR2, p_members IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    RETURN list_members('removemembers', p_name, p_domain, p_members);
  END RemoveListMembers;

  FUNCTION SetListMembers (p_name IN VARCHAR2, p_domain IN VARCHAR2, p_members IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    RETURN list_members('members', p_name, p_domain, p_members);
  END SetListMembers;

  FUNCTION DeleteList (p_name IN VARCHAR2, p_domain IN VARCHAR2 DEFAULT NULL) RETURN NUMBER IS
  BEGIN
    IF p_name IS NULL THEN
      invalid('DeleteList needs a list name');
    END IF;
    RETURN request('delete publicdl' || arg('name', p_name) || arg('domain', p_domain));
  END DeleteList;

  FUNCTION Submit (p_statement IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    IF NOT REGEXP_LIKE(TRIM(p_statement), '^(create|modify|delete)[[:space:]]+(person|room|equipment|publicdl)[[:space:]]', 'i') THEN
      invalid('DAPLS runs create, modify and delete of person, room, equipment and publicdl only');
    END IF;
    RETURN request(p_statement);
  END Submit;

  PROCEDURE request_row (p_request_id IN NUMBER, p_state OUT VARCHAR2, p_result OUT VARCHAR2, p_error OUT VARCHAR2) IS
  BEGIN
    es_api.require_admin;
    SELECT r.request_state, r.result_text, r.error_text
      INTO p_state, p_result, p_error
      FROM es_admin_request r
     WHERE r.request_id = p_request_id;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      es_api.fail(es_api.c_not_found, 'no request ' || p_request_id);
  END request_row;

  FUNCTION RequestState (p_request_id IN NUMBER) RETURN VARCHAR2 IS
    v_state  VARCHAR2(16 CHAR);
    v_result VARCHAR2(4000 CHAR);
    v_error  VARCHAR2(4000 CHAR);
  BEGIN
    request_row(p_request_id, v_state, v_result, v_error);
    RETURN CASE WHEN v_state = 'FAILED' THEN SUBSTR('FAILED: ' || v_error, 1, 4000) ELSE v_state END;
  END RequestState;

  FUNCTION RequestResult (p_request_id IN NUMBER) RETURN VARCHAR2 IS
    v_state  VARCHAR2(16 CHAR);
    v_result VARCHAR2(4000 CHAR);
    v_error  VARCHAR2(4000 CHAR);
  BEGIN
    request_row(p_request_id, v_state, v_result, v_error);
    RETURN v_result;
  END RequestResult;

  FUNCTION account_or_any (p_address IN VARCHAR2) RETURN NUMBER IS
    v_id NUMBER;
  BEGIN
    IF p_address IS NULL THEN
      RETURN NULL;
    END IF;
    v_id := es_api.find_account(p_address);
    IF v_id IS NULL THEN
      es_api.fail(es_api.c_not_found, 'no account ' || p_address);
    END IF;
    RETURN v_id;
  END account_or_any;

  PROCEDURE GrantAccount (p_db_user IN VARCHAR2, p_address IN VARCHAR2 DEFAULT NULL, p_admin IN NUMBER DEFAULT 0) IS
    v_user    VARCHAR2(128 CHAR) := UPPER(TRIM(p_db_user));
    v_account NUMBER;
    v_key     NUMBER;
    v_now     TIMESTAMP WITH TIME ZONE := es_api.now_utc;
  BEGIN
    es_api.require_admin;
    IF v_user IS NULL OR ASCIISTR(v_user) <> v_user OR NOT REGEXP_LIKE(v_user, '^[[:alpha:]][[:alnum:]_$#]{0,127}$') THEN
      invalid('Oracle user ' || SUBSTR(p_db_user, 1, 130) || ': expected a plain Oracle identifier');
    END IF;
    IF NVL(p_admin, -1) NOT IN (0, 1) THEN
      invalid('p_admin: 1 or 0');
    END IF;
    v_account := account_or_any(p_address);
    v_key := NVL(v_account, 0);
    UPDATE es_api_user u
       SET u.may_admin = p_admin
     WHERE u.db_user = v_user
       AND NVL(u.account_id, 0) = v_key;
    IF SQL%ROWCOUNT = 0 THEN
      INSERT INTO es_api_user (db_user, account_id, may_admin, created_at)
      VALUES (v_user, v_account, p_admin, v_now);
    END IF;
  END GrantAccount;

  PROCEDURE RevokeAccount (p_db_user IN VARCHAR2, p_address IN VARCHAR2 DEFAULT NULL) IS
    v_user VARCHAR2(128 CHAR) := UPPER(TRIM(p_db_user));
    v_key  NUMBER;
  BEGIN
    es_api.require_admin;
    v_key := NVL(account_or_any(p_address), 0);
    DELETE FROM es_api_user u
     WHERE u.db_user = v_user
       AND NVL(u.account_id, 0) = v_key;
  END RevokeAccount;
END dapls;
/
