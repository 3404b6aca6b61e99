CREATE OR REPLACE PACKAGE iosend AUTHID DEFINER AS
  -- IOSEND: sending mail from PL/SQL (a trigger, a job, an application's procedure).
  --
  --   IOSEND.AUTHENTICATE('stock@acme.com');              -- the sender: the session's account
  --   IOSEND.ADD_RECIPIENT('boss@acme.com');
  --   IOSEND.SET_SUBJECT('Low stock: part 4711');
  --   IOSEND.ADD_CONTENT('Part 4711 is down to 3 pieces.');
  --   IOSEND.SEND;                                         -- or v_id := IOSEND.SUBMIT
  --   COMMIT;                                              -- the caller's: only now it leaves
  --
  -- SUBMIT builds the RFC 5322 / MIME message and writes what the SMTP gateway's intake writes
  -- for a submission: the content once (es_message, its parts in es_message_part), and a
  -- SUBMISSION queue entry (es_queue_entry) with its recipients (es_queue_recipient), in the
  -- caller's transaction, without committing. The mail leaves only if the caller commits; a
  -- rollback takes it back. The Postman delivers it (lists, aliases, quotas, rules, non-delivery
  -- reports to the sender) as any other submission. The IMAP structure of the message is
  -- computed by the first FETCH.
  --
  -- The sender: AUTHENTICATE names the account the message is from (From:, the envelope
  -- sender). esmail's passwords are argon2 hashes, which PL/SQL cannot check: the Oracle user of
  -- the session must be allowed to act as the account (it is the schema owner, or es_api_user
  -- says so; see es_api), and the account must be enabled. p_password is accepted for the
  -- original's signature and not checked.
  --
  -- Building a message: recipients (ADD_RECIPIENT, or SUBMIT's lists), a subject, extra header
  -- fields, and parts. A part begins with DESCRIBE_PART (or with the first ADD_CONTENT) and
  -- takes any number of ADD_CONTENT (text or binary) and ADD_ATTRIBUTE (its own MIME header
  -- fields). One part makes a simple message; several make a multipart/mixed one, or the kind
  -- ADD_MIME_MARKER names. Text is sent as UTF-8 with CRLF line ends (7bit, 8bit, or base64
  -- for long lines); binary content as base64. FOLDER_CARBON_COPY keeps a copy in one of the
  -- sender's folders (filed by the Postman after the commit, flagged \Seen).
  -- The message being built belongs to the session; SUBMIT and NEW_MESSAGE start a new one.

  -- The sender (name@domain); starts a new message.
  PROCEDURE AUTHENTICATE (p_address IN VARCHAR2, p_password IN VARCHAR2 DEFAULT NULL);

  -- Forgets the message being built (the sender stays).
  PROCEDURE NEW_MESSAGE;

  -- p_kind: TO, CC or BCC (BCC recipients get the message; no header names them).
  PROCEDURE ADD_RECIPIENT (p_address IN VARCHAR2, p_kind IN VARCHAR2 DEFAULT 'TO');

  PROCEDURE SET_SUBJECT (p_subject IN VARCHAR2);

  -- A header field of the message (X-Application: inventory); not one IOSEND writes itself
  -- (From, To, Cc, Bcc, Subject, Date, Message-ID, MIME-Version, Content-*, Received).
  PROCEDURE ADD_EXTRA_HEADER (p_name IN VARCHAR2, p_value IN VARCHAR2);

  -- The message is multipart/p_subtype (mixed, alternative, related, ...) whatever the number of
  -- its parts.
  PROCEDURE ADD_MIME_MARKER (p_subtype IN VARCHAR2 DEFAULT 'mixed');

  -- Begins a part: its MIME type (with parameters: 'text/html; charset=utf-8'), the file name of
  -- an attachment, its disposition (inline or attachment; attachment when a file name is
  -- given) and a description.
  PROCEDURE DESCRIBE_PART (
    p_content_type IN VARCHAR2 DEFAULT 'text/plain',
    p_file_name    IN VARCHAR2 DEFAULT NULL,
    p_disposition  IN VARCHAR2 DEFAULT NULL,
    p_description  IN VARCHAR2 DEFAULT NULL);

  -- A MIME header field of the current part (Content-ID, Content-Language, ...).
  PROCEDURE ADD_ATTRIBUTE (p_name IN VARCHAR2, p_value IN VARCHAR2);

  -- Appends to the current part (a text/plain part, or an application/octet-stream one for
  -- binary data, when none was described).
  PROCEDURE ADD_CONTENT (p_text IN VARCHAR2);
  PROCEDURE ADD_CONTENT (p_text IN CLOB);
  PROCEDURE ADD_CONTENT (p_data IN BLOB);

  -- Keeps a copy of the message in this folder of the sender (default Sent).
  PROCEDURE FOLDER_CARBON_COPY (p_folder IN VARCHAR2 DEFAULT 'Sent');

  -- Queues the message (see above) to the recipients added and those of p_to, p_cc, p_bcc
  -- (addresses separated by commas or semicolons); returns its Message-ID (without <>).
  FUNCTION SUBMIT (
    p_subject IN VARCHAR2 DEFAULT NULL,
    p_to      IN VARCHAR2 DEFAULT NULL,
    p_cc      IN VARCHAR2 DEFAULT NULL,
    p_bcc     IN VARCHAR2 DEFAULT NULL) RETURN VARCHAR2;

  -- SUBMIT, as a procedure.
  PROCEDURE SEND (
    p_subject IN VARCHAR2 DEFAULT NULL,
    p_to      IN VARCHAR2 DEFAULT NULL,
    p_cc      IN VARCHAR2 DEFAULT NULL,
    p_bcc     IN VARCHAR2 DEFAULT NULL);

  -- Queues a message the sender has already (in one of its folders) to more recipients, as it
  -- is: the same stored content (IM_API.BlindCopyTo). Returns the queue entry's id.
  FUNCTION RESEND (p_message_id IN NUMBER, p_to IN VARCHAR2) RETURN NUMBER;

  -- The es_message id of the session's last SUBMIT (NULL before the first).
  FUNCTION LAST_MESSAGE_ID RETURN NUMBER;
END iosend;
/
