CREATE OR REPLACE PACKAGE es_api AUTHID DEFINER AS
  -- What the esmail PL/SQL packages (IOSEND, IM_API, DAPLS, ES_RULES) share: who the caller
  -- is, which account it acts as, and the errors they raise.
  --
  -- The caller's account. esmail's accounts log in with argon2 password hashes, which PL/SQL
  -- cannot verify; the packages trust the Oracle database instead. The calling schema - the
  -- owner of the stored PL/SQL unit that called the package (a trigger's owner, a procedure's
  -- owner), or the session user for an anonymous block or a call from SQL - may act as an
  -- account when
  --   * it is the schema owner (any account), or
  --   * a row of es_api_user names it with that account, or with account_id NULL (any account).
  -- set_account (called by IOSEND.AUTHENTICATE and IM_API.Authenticate) checks that, and that
  -- the account exists and is enabled, and keeps the account for the rest of the session (or
  -- until another set_account). Administrator calls (DAPLS, ES_RULES.create_rule ...) need the
  -- schema owner or a row of es_api_user with may_admin = 1. Rows of es_api_user are written
  -- by the schema owner (DAPLS.GrantAccount, or plain SQL).

  -- Errors (RAISE_APPLICATION_ERROR numbers)
  c_invalid       CONSTANT PLS_INTEGER := -20400;  -- a wrong argument
  c_not_allowed   CONSTANT PLS_INTEGER := -20401;  -- the session may not do that
  c_no_account    CONSTANT PLS_INTEGER := -20402;  -- no account: call AUTHENTICATE first
  c_not_found     CONSTANT PLS_INTEGER := -20404;  -- no such account, rule, folder, message
  c_conflict      CONSTANT PLS_INTEGER := -20409;  -- exists already, or in the way

  -- Raises c_* with a message.
  PROCEDURE fail (p_code IN PLS_INTEGER, p_message IN VARCHAR2);

  -- The calling schema (see above): the Oracle user es_api_user rows name.
  FUNCTION caller RETURN VARCHAR2;

  -- Sets the session's account (an address, name@domain); raises c_not_found, c_not_allowed.
  PROCEDURE set_account (p_address IN VARCHAR2);
  -- The same, by account id (IM_API.OpenFolderById: the folder's owner).
  PROCEDURE set_account_id (p_account_id IN NUMBER);
  PROCEDURE clear_account;
  -- The session's account; raises c_no_account when none was set.
  FUNCTION account_id RETURN NUMBER;
  -- Its address, name@domain.
  FUNCTION account_address RETURN VARCHAR2;

  -- The account an address names (a person, room or equipment of a local domain), or NULL.
  FUNCTION find_account (p_address IN VARCHAR2) RETURN NUMBER;
  -- The address of an account, name@domain, or NULL.
  FUNCTION address_of (p_account_id IN NUMBER) RETURN VARCHAR2;

  -- 1 when the session may act as the account, else 0.
  FUNCTION may_act_as (p_account_id IN NUMBER) RETURN NUMBER;
  -- 1 when the session may call the administrator procedures, else 0.
  FUNCTION is_admin RETURN NUMBER;
  -- Raises c_not_allowed unless is_admin.
  PROCEDURE require_admin;
  -- 1 when the session may see a rule: administrators see every rule, others their accounts'.
  FUNCTION rule_visible (p_owner_kind IN VARCHAR2, p_account_id IN NUMBER) RETURN NUMBER;

  -- Checks an address (local@domain, as an SMTP path holds it) and returns it with the domain
  -- in lower case; raises c_invalid with p_what in the message.
  FUNCTION check_address (p_what IN VARCHAR2, p_address IN VARCHAR2) RETURN VARCHAR2;
  -- Checks one line of text (no control characters but tab), at most p_max characters.
  FUNCTION check_line (p_what IN VARCHAR2, p_value IN VARCHAR2, p_max IN PLS_INTEGER) RETURN VARCHAR2;
  -- Checks a header field name (printable ASCII without ':' or spaces, at most 128 characters;
  -- a trailing ':' is dropped) and returns it.
  FUNCTION check_header_name (p_what IN VARCHAR2, p_name IN VARCHAR2) RETURN VARCHAR2;
  -- Checks a folder name as the IMAP server does (INBOX in any case is INBOX) and returns it.
  FUNCTION check_folder (p_folder IN VARCHAR2) RETURN VARCHAR2;

  -- A new global identifier: 36 characters like the server's UUIDs (from SYS_GUID).
  FUNCTION new_guid RETURN VARCHAR2;
  -- The node this store belongs to (es_setting local_node_id).
  FUNCTION local_node_id RETURN NUMBER;
  -- The time now, in UTC.
  FUNCTION now_utc RETURN TIMESTAMP WITH TIME ZONE;
END es_api;
/
