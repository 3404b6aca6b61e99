CREATE OR REPLACE PACKAGE im_api AUTHID DEFINER AS
  -- IM_API: reading and managing a mailbox from PL/SQL.
  --
  -- The mailbox is the session's account: Authenticate (or IOSEND.AUTHENTICATE; see es_api for
  -- who may act as which account), or OpenFolderById, which takes the folder's owner (that is
  -- what an ACTION_RUN_PROC procedure, given a folder id and a UID, calls).
  --
  -- Reads are plain SELECTs on the store (es_folder, es_folder_message, es_message,
  -- es_message_part): they see what is committed, and the caller's own uncommitted requests do
  -- not show in them yet.
  --
  -- Changes are REQUESTS. UIDs, modification sequences, quotas, pointer counts and the change
  -- feed the IMAP sessions follow are kept by the server, so IM_API does not write folders or
  -- message pointers itself: CreateFolder, DeleteFolder, CopyMessage, MoveMessage,
  -- DeleteMessage, SetMessageProp ... insert a row of es_mailbox_request in the caller's
  -- transaction and return its id. After the caller commits, the Postman performs it with the
  -- store's own functions (as an IMAP client's command would be) and writes the outcome into
  -- the row: RequestState (PENDING, DONE, or FAILED: why) and RequestUid (the new UID of a copy
  -- or move). A rollback takes the request back.
  --
  -- Sending (ForwardTo, ForwardWithTemplate, BlindCopyTo) goes through IOSEND, in the caller's
  -- transaction; it starts IOSEND's message anew.
  --
  -- Folder names are IMAP's: '/' separates levels, INBOX in any case is the INBOX.
  -- Message properties (GetMessageProp): UID, FLAGS, SEEN, ANSWERED, FLAGGED, DELETED, DRAFT
  -- (1 or 0), SIZE, INTERNALDATE (UTC, ISO 8601), MODSEQ, MESSAGEID, GUID, FOLDER, and the
  -- header fields SUBJECT, FROM, TO, CC, DATE (decoded).

  PROCEDURE Authenticate (p_address IN VARCHAR2);

  -- Folders -----------------------------------------------------------------------------
  -- Requests (return the request id).
  FUNCTION CreateFolder (p_folder IN VARCHAR2) RETURN NUMBER;
  FUNCTION DeleteFolder (p_folder IN VARCHAR2) RETURN NUMBER;

  -- The account's folders whose path matches p_pattern (* any characters, % any but '/'):
  -- folder_id, folder_path, special_use, message_count, unseen, next_uid, uidvalidity,
  -- highest_modseq; by path.
  FUNCTION GetFolderExp (p_pattern IN VARCHAR2 DEFAULT '*') RETURN SYS_REFCURSOR;

  -- 1 when the folder has messages without \Seen, else 0.
  FUNCTION HasNewMail (p_folder IN VARCHAR2 DEFAULT 'INBOX') RETURN NUMBER;

  -- Opens a folder and returns the number of its messages that GetNextMessage will give:
  -- GetNewMail those without \Seen, OpenFolder all; OpenFolderById for a folder id (and acts as
  -- its owner).
  FUNCTION GetNewMail (p_folder IN VARCHAR2 DEFAULT 'INBOX') RETURN NUMBER;
  FUNCTION OpenFolder (p_folder IN VARCHAR2 DEFAULT 'INBOX') RETURN NUMBER;
  FUNCTION OpenFolderById (p_folder_id IN NUMBER) RETURN NUMBER;

  -- The next message's UID in the open folder, by UID; NULL after the last.
  FUNCTION GetNextMessage RETURN NUMBER;
  PROCEDURE CloseFolder;

  -- Messages of the open folder, by UID --------------------------------------------------
  FUNCTION GetMessageProp (p_uid IN NUMBER, p_prop IN VARCHAR2) RETURN VARCHAR2;
  -- A request: p_prop SEEN, ANSWERED, FLAGGED, DELETED or DRAFT with p_value 1/0 (yes/no,
  -- on/off), KEYWORD with p_value '+word' or '-word', or FLAGS with p_value '+\Flag -\Flag ...'.
  FUNCTION SetMessageProp (p_uid IN NUMBER, p_prop IN VARCHAR2, p_value IN VARCHAR2) RETURN NUMBER;

  -- The leaf MIME parts: part_no, mime_type, attachment_type, file_name, size_bytes (decoded),
  -- transfer_encoding; by part number.
  FUNCTION GetPartList (p_uid IN NUMBER) RETURN SYS_REFCURSOR;
  -- The header section, as stored (the server's Received field first).
  FUNCTION GetMessageHdrs (p_uid IN NUMBER) RETURN CLOB;
  -- Every value of a header field, unfolded and decoded (RFC 2047), one per line; NULL when
  -- the message has no such field.
  FUNCTION GetExtendedHdrs (p_uid IN NUMBER, p_name IN VARCHAR2) RETURN VARCHAR2;
  -- The whole message, byte for byte (the stored content).
  FUNCTION GetMessageBody (p_uid IN NUMBER) RETURN BLOB;
  -- A part's body as transmitted (still base64 or quoted-printable), and decoded.
  FUNCTION GetAttachmentBody (p_uid IN NUMBER, p_part_no IN NUMBER) RETURN BLOB;
  FUNCTION GetAttachmentData (p_uid IN NUMBER, p_part_no IN NUMBER) RETURN BLOB;
  -- The first attachment (a part with a file name, or not text/plain or text/html) after
  -- p_after_part; NULL when there is none.
  FUNCTION GetNextAttachment (p_uid IN NUMBER, p_after_part IN NUMBER DEFAULT 0) RETURN NUMBER;

  -- Requests (return the request id).
  FUNCTION CopyMessage (p_uid IN NUMBER, p_folder IN VARCHAR2) RETURN NUMBER;
  FUNCTION CopyToFolder (p_uid IN NUMBER, p_folder IN VARCHAR2) RETURN NUMBER;
  FUNCTION MoveMessage (p_uid IN NUMBER, p_folder IN VARCHAR2) RETURN NUMBER;
  FUNCTION DeleteMessage (p_uid IN NUMBER) RETURN NUMBER;
  -- Deletes a message of another folder of the account.
  FUNCTION DeleteFrom (p_folder IN VARCHAR2, p_uid IN NUMBER) RETURN NUMBER;

  -- Sending, through IOSEND (return the new message's Message-ID; BlindCopyTo the queue
  -- entry's id, the same stored message being queued to p_to).
  FUNCTION ForwardTo (p_uid IN NUMBER, p_to IN VARCHAR2, p_comment IN VARCHAR2 DEFAULT NULL) RETURN VARCHAR2;
  -- p_template and p_subject may name {subject}, {sender}, {recipient} and {date} of the
  -- forwarded message (as the server-side rules' templates do).
  FUNCTION ForwardWithTemplate (
    p_uid      IN NUMBER,
    p_to       IN VARCHAR2,
    p_template IN VARCHAR2,
    p_subject  IN VARCHAR2 DEFAULT 'Fwd: {subject}') RETURN VARCHAR2;
  FUNCTION BlindCopyTo (p_uid IN NUMBER, p_to IN VARCHAR2) RETURN NUMBER;

  -- What became of a request of the account: PENDING, DONE, or FAILED: the reason.
  FUNCTION RequestState (p_request_id IN NUMBER) RETURN VARCHAR2;
  -- The UID a DONE copy or move (or IOSEND's carbon copy) got in its target folder.
  FUNCTION RequestUid (p_request_id IN NUMBER) RETURN NUMBER;

  -- Every call written to DBMS_OUTPUT (for tracing a procedure), or not.
  PROCEDURE EnableLogging;
  PROCEDURE DisableLogging;
END im_api;
/
