-- Asks for the schema owner password without echoing it (called by create_owner.sql when the
-- variable schema_password is not defined).
ACCEPT schema_password CHAR PROMPT 'Password for the new user &&schema_owner: ' HIDE
