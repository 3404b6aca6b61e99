CREATE OR REPLACE PACKAGE dapls AUTHID DEFINER AS
  -- DAPLS: a subset of the administration commands from PL/SQL: users (persons, rooms,
  -- equipment) and public distribution lists. For the schema owner, or an Oracle user with
  -- es_api_user.may_admin = 1.
  --
  -- The directory is not written here. Creating a user means more than a row: the name checked
  -- against every object of its domain, the account with its quota and home node, the INBOX
  -- and the special-use folders (Sent, Drafts, Trash, Junk) with their subscriptions, the
  -- reference and loop checks of lists, and a row of the directory change log that the
  -- replication reads - what `iofcmgr` does, in Rust. Writing it twice would let the two drift
  -- apart, so each DAPLS call is a REQUEST: one IOFCMGR statement (`create person
  -- username="jdoe" domain="acme.com" ...;`) inserted into es_admin_request in the caller's
  -- transaction. After the caller commits, the Postman runs the statement exactly as `iofcmgr`
  -- runs it and writes the outcome into the row: RequestState gives PENDING, DONE, or FAILED:
  -- why; RequestResult what iofcmgr would have printed. A rollback takes the request back.
  --
  -- Passwords: esmail keeps argon2 hashes, which PL/SQL cannot compute, and a clear password
  -- must not sit in a request table. So a user is created with p_password_hash, an argon2 PHC
  -- string made elsewhere (`$argon2id$v=19$m=...`; the Postman checks it), or without one: then
  -- the account cannot log in until an administrator sets a password with iofcmgr
  -- (`modify person username=jdoe password=...;`). The Postman refuses `password=` in requests.
  --
  -- Every function returns the request's id. NULL parameters are left out of the statement
  -- (on a modify: left unchanged). p_domain NULL: the store's default domain.

  FUNCTION CreateUser (
    p_username      IN VARCHAR2,
    p_domain        IN VARCHAR2 DEFAULT NULL,
    p_password_hash IN VARCHAR2 DEFAULT NULL,
    p_firstname     IN VARCHAR2 DEFAULT NULL,
    p_lastname      IN VARCHAR2 DEFAULT NULL,
    p_displayname   IN VARCHAR2 DEFAULT NULL,
    p_quota_bytes   IN NUMBER   DEFAULT NULL,
    p_enabled       IN NUMBER   DEFAULT 1,
    p_class         IN VARCHAR2 DEFAULT 'person') RETURN NUMBER;

  -- Sets one attribute of a user (firstname, lastname, title, quota, status, passwordhash, ...,
  -- the attributes of `modify person`).
  FUNCTION ModifyUser (
    p_username  IN VARCHAR2,
    p_domain    IN VARCHAR2,
    p_attribute IN VARCHAR2,
    p_value     IN VARCHAR2,
    p_class     IN VARCHAR2 DEFAULT 'person') RETURN NUMBER;

  FUNCTION DeleteUser (
    p_username IN VARCHAR2,
    p_domain   IN VARCHAR2 DEFAULT NULL,
    p_class    IN VARCHAR2 DEFAULT 'person') RETURN NUMBER;

  -- Public distribution lists; members are addresses separated by commas.
  FUNCTION CreateList (
    p_name        IN VARCHAR2,
    p_domain      IN VARCHAR2 DEFAULT NULL,
    p_members     IN VARCHAR2 DEFAULT NULL,
    p_description IN VARCHAR2 DEFAULT NULL) RETURN NUMBER;
  FUNCTION AddListMembers (p_name IN VARCHAR2, p_domain IN VARCHAR2, p_members IN VARCHAR2) RETURN NUMBER;
  FUNCTION RemoveListMembers (p_name IN VARCHAR2, p_domain IN VARCHAR2, p_members IN VARCHAR2) RETURN NUMBER;
  FUNCTION SetListMembers (p_name IN VARCHAR2, p_domain IN VARCHAR2, p_members IN VARCHAR2) RETURN NUMBER;
  FUNCTION DeleteList (p_name IN VARCHAR2, p_domain IN VARCHAR2 DEFAULT NULL) RETURN NUMBER;

  -- Any statement of the subset (create, modify or delete of person, room, equipment,
  -- publicdl), written in the IOFCMGR language.
  FUNCTION Submit (p_statement IN VARCHAR2) RETURN NUMBER;

  -- PENDING, DONE, or FAILED: the reason.
  FUNCTION RequestState (p_request_id IN NUMBER) RETURN VARCHAR2;
  -- What iofcmgr printed for a DONE request (created person jdoe@acme.com).
  FUNCTION RequestResult (p_request_id IN NUMBER) RETURN VARCHAR2;

  -- Who may use the PL/SQL packages (es_api_user; no request: it holds at once, in the
  -- caller's transaction). p_address NULL: any account. p_admin 1: the administrator calls too.
  PROCEDURE GrantAccount (p_db_user IN VARCHAR2, p_address IN VARCHAR2 DEFAULT NULL, p_admin IN NUMBER DEFAULT 0);
  PROCEDURE RevokeAccount (p_db_user IN VARCHAR2, p_address IN VARCHAR2 DEFAULT NULL);
END dapls;
/
