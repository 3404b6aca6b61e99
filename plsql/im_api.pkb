CREATE OR REPLACE PACKAGE BODY im_api AS
  c_crlf CONSTANT VARCHAR2(2) := CHR(13) || CHR(10);

  TYPE t_uids IS TABLE OF NUMBER INDEX BY PLS_INTEGER;

  -- one message pointer of the open folder, with its content's row
  TYPE t_message IS RECORD (
    message_id    NUMBER,
    flags         VARCHAR2(4000 CHAR),
    modseq        NUMBER,
    internal_date TIMESTAMP WITH TIME ZONE,
    size_bytes    NUMBER,
    rfc822_msgid  VARCHAR2(998 CHAR),
    guid          VARCHAR2(36));

  g_folder_id  NUMBER;
  g_uids       t_uids;
  g_pos        PLS_INTEGER := 0;
  g_logging    BOOLEAN := FALSE;

  PROCEDURE trace (p_text IN VARCHAR2) IS
  BEGIN
    IF g_logging THEN
      DBMS_OUTPUT.PUT_LINE('IM_API ' || SUBSTR(p_text, 1, 2000));
    END IF;
  END trace;

  PROCEDURE EnableLogging IS
  BEGIN
    g_logging := TRUE;
  END EnableLogging;

  PROCEDURE DisableLogging IS
  BEGIN
    g_logging := FALSE;
  END DisableLogging;

  PROCEDURE Authenticate (p_address IN VARCHAR2) IS
  BEGIN
    trace('Authenticate ' || p_address);
    es_api.set_account(p_address);
    CloseFolder;
  END Authenticate;

  -- ------------------------------------------------------------------ folders

  -- The session account's folder with this path (checked as the IMAP server checks names).
  FUNCTION folder_id_of (p_folder IN VARCHAR2) RETURN NUMBER IS
    v_account NUMBER := es_api.account_id;
    v_path    VARCHAR2(1000 CHAR) := es_api.check_folder(p_folder);
    v_id      NUMBER;
  BEGIN
    SELECT f.folder_id
      INTO v_id
      FROM es_folder f
     WHERE f.owner_account_id = v_account
       AND f.folder_path = v_path;
    RETURN v_id;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      es_api.fail(es_api.c_not_found, 'no folder ' || v_path || ' in the mailbox of ' || es_api.account_address);
  END folder_id_of;

  FUNCTION request (
    p_kind        IN VARCHAR2,
    p_folder_path IN VARCHAR2,
    p_folder_id   IN NUMBER,
    p_uid         IN NUMBER,
    p_message_id  IN NUMBER,
    p_target      IN VARCHAR2,
    p_params      IN VARCHAR2) RETURN NUMBER IS
    v_account NUMBER := es_api.account_id;
    v_caller  VARCHAR2(128 CHAR) := es_api.caller;
    v_now     TIMESTAMP WITH TIME ZONE := es_api.now_utc;
    v_id      NUMBER;
  BEGIN
    INSERT INTO es_mailbox_request (account_id, request_kind, folder_path, folder_id, msg_uid, message_id,
                                    target_path, params, request_state, attempts, requested_by, created_at)
    VALUES (v_account, p_kind, p_folder_path, p_folder_id, p_uid, p_message_id,
            p_target, p_params, 'PENDING', 0, v_caller, v_now)
    RETURNING request_id INTO v_id;
    trace(p_kind || ' request ' || v_id);
    RETURN v_id;
  END request;

  FUNCTION CreateFolder (p_folder IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    trace('CreateFolder ' || p_folder);
    RETURN request('CREATE_FOLDER', es_api.check_folder(p_folder), NULL, NULL, NULL, NULL, NULL);
  END CreateFolder;

  FUNCTION DeleteFolder (p_folder IN VARCHAR2) RETURN NUMBER IS
    v_path VARCHAR2(1000 CHAR) := es_api.check_folder(p_folder);
  BEGIN
    trace('DeleteFolder ' || p_folder);
    IF v_path = 'INBOX' THEN
      es_api.fail(es_api.c_invalid, 'INBOX cannot be deleted');
    END IF;
    RETURN request('DELETE_FOLDER', v_path, NULL, NULL, NULL, NULL, NULL);
  END DeleteFolder;

  -- An IMAP LIST pattern as a regular expression: * any characters, % any but '/'.
  FUNCTION pattern_regex (p_pattern IN VARCHAR2) RETURN VARCHAR2 IS
    v_out VARCHAR2(4000 CHAR) := '^';
    v_ch  VARCHAR2(1 CHAR);
  BEGIN
    FOR i IN 1 .. NVL(LENGTH(p_pattern), 0) LOOP
      v_ch := SUBSTR(p_pattern, i, 1);
      IF v_ch = '*' THEN
        v_out := v_out || '.*';
      ELSIF v_ch = '%' THEN
        v_out := v_out || '[^/]*';
      ELSIF INSTR('.^$+?()[]{}|\', v_ch) > 0 THEN
        v_out := v_out || '\' || v_ch;
      ELSE
        v_out := v_out || v_ch;
      END IF;
    END LOOP;
    RETURN v_out || '$';
  END pattern_regex;

  FUNCTION GetFolderExp (p_pattern IN VARCHAR2 DEFAULT '*') RETURN SYS_REFCURSOR IS
    v_account NUMBER := es_api.account_id;
    v_regex   VARCHAR2(4000 CHAR) := pattern_regex(NVL(p_pattern, '*'));
    v_cursor  SYS_REFCURSOR;
  BEGIN
    trace('GetFolderExp ' || p_pattern);
    OPEN v_cursor FOR
      SELECT f.folder_id, f.folder_path, f.special_use, f.message_count,
             (SELECT COUNT(*)
                FROM es_folder_message fm
               WHERE fm.folder_id = f.folder_id
                 AND (fm.flags IS NULL OR INSTR(fm.flags, '\Seen') = 0)) AS unseen,
             f.next_uid, f.uidvalidity, f.highest_modseq
        FROM es_folder f
       WHERE f.owner_account_id = v_account
         AND REGEXP_LIKE(f.folder_path, v_regex)
       ORDER BY f.folder_path;
    RETURN v_cursor;
  END GetFolderExp;

  FUNCTION unseen_count (p_folder_id IN NUMBER) RETURN NUMBER IS
    v_n NUMBER;
  BEGIN
    SELECT COUNT(*)
      INTO v_n
      FROM es_folder_message fm
     WHERE fm.folder_id = p_folder_id
       AND (fm.flags IS NULL OR INSTR(fm.flags, '\Seen') = 0);
    RETURN v_n;
  END unseen_count;

  FUNCTION HasNewMail (p_folder IN VARCHAR2 DEFAULT 'INBOX') RETURN NUMBER IS
  BEGIN
    trace('HasNewMail ' || p_folder);
    RETURN CASE WHEN unseen_count(folder_id_of(p_folder)) > 0 THEN 1 ELSE 0 END;
  END HasNewMail;

  FUNCTION open_folder (p_folder_id IN NUMBER, p_unseen_only IN NUMBER) RETURN NUMBER IS
  BEGIN
    CloseFolder;
    SELECT fm.msg_uid
      BULK COLLECT INTO g_uids
      FROM es_folder_message fm
     WHERE fm.folder_id = p_folder_id
       AND (p_unseen_only = 0 OR fm.flags IS NULL OR INSTR(fm.flags, '\Seen') = 0)
     ORDER BY fm.msg_uid;
    g_folder_id := p_folder_id;
    g_pos := 0;
    RETURN g_uids.COUNT;
  END open_folder;

  FUNCTION GetNewMail (p_folder IN VARCHAR2 DEFAULT 'INBOX') RETURN NUMBER IS
  BEGIN
    trace('GetNewMail ' || p_folder);
    RETURN open_folder(folder_id_of(p_folder), 1);
  END GetNewMail;

  FUNCTION OpenFolder (p_folder IN VARCHAR2 DEFAULT 'INBOX') RETURN NUMBER IS
  BEGIN
    trace('OpenFolder ' || p_folder);
    RETURN open_folder(folder_id_of(p_folder), 0);
  END OpenFolder;

  FUNCTION OpenFolderById (p_folder_id IN NUMBER) RETURN NUMBER IS
    v_owner NUMBER;
  BEGIN
    trace('OpenFolderById ' || p_folder_id);
    BEGIN
      SELECT f.owner_account_id
        INTO v_owner
        FROM es_folder f
       WHERE f.folder_id = p_folder_id;
    EXCEPTION
      WHEN NO_DATA_FOUND THEN
        es_api.fail(es_api.c_not_found, 'no folder ' || p_folder_id);
    END;
    IF v_owner IS NULL THEN
      es_api.fail(es_api.c_not_allowed, 'folder ' || p_folder_id || ' belongs to no account');
    END IF;
    es_api.set_account_id(v_owner);
    RETURN open_folder(p_folder_id, 0);
  END OpenFolderById;

  FUNCTION GetNextMessage RETURN NUMBER IS
  BEGIN
    IF g_folder_id IS NULL OR g_pos >= g_uids.COUNT THEN
      RETURN NULL;
    END IF;
    g_pos := g_pos + 1;
    RETURN g_uids(g_pos);
  END GetNextMessage;

  PROCEDURE CloseFolder IS
  BEGIN
    g_folder_id := NULL;
    g_uids.DELETE;
    g_pos := 0;
  END CloseFolder;

  -- ------------------------------------------------------------------ messages

  FUNCTION open_folder_id RETURN NUMBER IS
  BEGIN
    IF g_folder_id IS NULL THEN
      es_api.fail(es_api.c_invalid, 'no folder is open: call OpenFolder, GetNewMail or OpenFolderById first');
    END IF;
    RETURN g_folder_id;
  END open_folder_id;

  FUNCTION message_of (p_folder_id IN NUMBER, p_uid IN NUMBER) RETURN t_message IS
    v_m t_message;
  BEGIN
    SELECT fm.message_id, fm.flags, fm.modseq, fm.internal_date, m.size_bytes, m.rfc822_msgid, m.guid
      INTO v_m.message_id, v_m.flags, v_m.modseq, v_m.internal_date, v_m.size_bytes, v_m.rfc822_msgid, v_m.guid
      FROM es_folder_message fm
      JOIN es_message m ON m.message_id = fm.message_id
     WHERE fm.folder_id = p_folder_id
       AND fm.msg_uid = p_uid;
    RETURN v_m;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      es_api.fail(es_api.c_not_found, 'no message ' || p_uid || ' in folder ' || p_folder_id);
  END message_of;

  FUNCTION current_message (p_uid IN NUMBER) RETURN t_message IS
  BEGIN
    RETURN message_of(open_folder_id, p_uid);
  END current_message;

  FUNCTION content_of (p_message_id IN NUMBER) RETURN BLOB IS
    v_content BLOB;
  BEGIN
    SELECT m.content
      INTO v_content
      FROM es_message m
     WHERE m.message_id = p_message_id;
    RETURN v_content;
  END content_of;

  FUNCTION has_flag (p_flags IN VARCHAR2, p_flag IN VARCHAR2) RETURN VARCHAR2 IS
  BEGIN
    RETURN CASE WHEN INSTR(' ' || UPPER(p_flags) || ' ', ' ' || UPPER(p_flag) || ' ') > 0 THEN '1' ELSE '0' END;
  END has_flag;

  FUNCTION header_text (p_message_id IN NUMBER) RETURN CLOB IS
    v_content BLOB := content_of(p_message_id);
    v_end     INTEGER;
    v_text    CLOB;
    v_dest    INTEGER := 1;
    v_src     INTEGER := 1;
    v_ctx     INTEGER := DBMS_LOB.DEFAULT_LANG_CTX;
    v_warn    INTEGER;
  BEGIN
    v_end := DBMS_LOB.INSTR(v_content, HEXTORAW('0D0A0D0A'), 1, 1);
    IF v_end > 0 THEN
      v_end := v_end + 1;
    ELSE
      v_end := DBMS_LOB.INSTR(v_content, HEXTORAW('0A0A'), 1, 1);
      IF v_end = 0 THEN
        v_end := DBMS_LOB.GETLENGTH(v_content);
      END IF;
    END IF;
    DBMS_LOB.CREATETEMPORARY(v_text, TRUE);
    IF v_end > 0 THEN
      DBMS_LOB.CONVERTTOCLOB(v_text, v_content, v_end, v_dest, v_src,
                             NLS_CHARSET_ID('AL32UTF8'), v_ctx, v_warn);
    END IF;
    RETURN v_text;
  END header_text;

  FUNCTION header_values (p_message_id IN NUMBER, p_name IN VARCHAR2) RETURN VARCHAR2 IS
    v_name   VARCHAR2(128 CHAR) := es_api.check_header_name('header', p_name);
    v_text   VARCHAR2(32767);
    v_line   VARCHAR2(32767);
    v_out    VARCHAR2(32767);
    v_pos    PLS_INTEGER := 1;
    v_nl     PLS_INTEGER;
    v_prefix PLS_INTEGER := LENGTH(v_name) + 1;
    v_header CLOB := header_text(p_message_id);
  BEGIN
    v_text := DBMS_LOB.SUBSTR(v_header, 32000, 1);
    DBMS_LOB.FREETEMPORARY(v_header);
    -- line ends as LF, folded lines unfolded
    v_text := REPLACE(v_text, CHR(13));
    v_text := REGEXP_REPLACE(v_text, CHR(10) || '([ ' || CHR(9) || '])', '\1');
    LOOP
      v_nl := INSTR(v_text, CHR(10), v_pos);
      IF v_nl = 0 THEN
        v_line := SUBSTR(v_text, v_pos);
      ELSE
        v_line := SUBSTR(v_text, v_pos, v_nl - v_pos);
      END IF;
      IF UPPER(SUBSTR(v_line, 1, v_prefix)) = UPPER(v_name) || ':' THEN
        v_line := TRIM(SUBSTR(v_line, v_prefix + 1));
        IF INSTR(v_line, '=?') > 0 THEN
          BEGIN
            v_line := UTL_ENCODE.MIMEHEADER_DECODE(v_line);
          EXCEPTION
            WHEN OTHERS THEN
              NULL;  -- an encoded word UTL_ENCODE cannot read: the value as it is
          END;
        END IF;
        v_out := CASE WHEN v_out IS NULL THEN v_line ELSE v_out || CHR(10) || v_line END;
      END IF;
      EXIT WHEN v_nl = 0 OR v_pos > LENGTH(v_text);
      v_pos := v_nl + 1;
    END LOOP;
    RETURN SUBSTR(v_out, 1, 32767);
  END header_values;

  FUNCTION GetMessageProp (p_uid IN NUMBER, p_prop IN VARCHAR2) RETURN VARCHAR2 IS
    v_m    t_message := current_message(p_uid);
    v_prop VARCHAR2(32) := UPPER(TRIM(p_prop));
    v_path VARCHAR2(1000 CHAR);
    v_id   NUMBER := g_folder_id;
  BEGIN
    trace('GetMessageProp ' || p_uid || ' ' || p_prop);
    CASE v_prop
      WHEN 'UID' THEN RETURN TO_CHAR(p_uid);
      WHEN 'FLAGS' THEN RETURN v_m.flags;
      WHEN 'SEEN' THEN RETURN has_flag(v_m.flags, '\Seen');
      WHEN 'ANSWERED' THEN RETURN has_flag(v_m.flags, '\Answered');
      WHEN 'FLAGGED' THEN RETURN has_flag(v_m.flags, '\Flagged');
      WHEN 'DELETED' THEN RETURN has_flag(v_m.flags, '\Deleted');
      WHEN 'DRAFT' THEN RETURN has_flag(v_m.flags, '\Draft');
      WHEN 'SIZE' THEN RETURN TO_CHAR(v_m.size_bytes);
      WHEN 'INTERNALDATE' THEN
        RETURN TO_CHAR(SYS_EXTRACT_UTC(v_m.internal_date), 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
      WHEN 'MODSEQ' THEN RETURN TO_CHAR(v_m.modseq);
      WHEN 'MESSAGEID' THEN RETURN v_m.rfc822_msgid;
      WHEN 'GUID' THEN RETURN v_m.guid;
      WHEN 'FOLDER' THEN
        SELECT f.folder_path
          INTO v_path
          FROM es_folder f
         WHERE f.folder_id = v_id;
        RETURN v_path;
      WHEN 'SUBJECT' THEN RETURN header_values(v_m.message_id, 'Subject');
      WHEN 'FROM' THEN RETURN header_values(v_m.message_id, 'From');
      WHEN 'TO' THEN RETURN header_values(v_m.message_id, 'To');
      WHEN 'CC' THEN RETURN header_values(v_m.message_id, 'Cc');
      WHEN 'DATE' THEN RETURN header_values(v_m.message_id, 'Date');
      ELSE
        es_api.fail(es_api.c_invalid, 'property ' || SUBSTR(p_prop, 1, 40)
                    || ': expected UID, FLAGS, SEEN, ANSWERED, FLAGGED, DELETED, DRAFT, SIZE, INTERNALDATE, MODSEQ, MESSAGEID, GUID, FOLDER, SUBJECT, FROM, TO, CC or DATE');
    END CASE;
    RETURN NULL;
  END GetMessageProp;

  FUNCTION yes (p_value IN VARCHAR2) RETURN BOOLEAN IS
  BEGIN
    CASE LOWER(TRIM(p_value))
      WHEN '1' THEN RETURN TRUE;
      WHEN 'yes' THEN RETURN TRUE;
      WHEN 'on' THEN RETURN TRUE;
      WHEN 'true' THEN RETURN TRUE;
      WHEN '0' THEN RETURN FALSE;
      WHEN 'no' THEN RETURN FALSE;
      WHEN 'off' THEN RETURN FALSE;
      WHEN 'false' THEN RETURN FALSE;
      ELSE
        es_api.fail(es_api.c_invalid, 'value ' || SUBSTR(p_value, 1, 40) || ': expected 1 or 0');
    END CASE;
    RETURN NULL;
  END yes;

  FUNCTION SetMessageProp (p_uid IN NUMBER, p_prop IN VARCHAR2, p_value IN VARCHAR2) RETURN NUMBER IS
    v_folder NUMBER := open_folder_id;
    v_m      t_message := current_message(p_uid);
    v_prop   VARCHAR2(32) := UPPER(TRIM(p_prop));
    v_params VARCHAR2(4000 CHAR);
  BEGIN
    trace('SetMessageProp ' || p_uid || ' ' || p_prop || ' ' || p_value);
    IF v_prop IN ('SEEN', 'ANSWERED', 'FLAGGED', 'DELETED', 'DRAFT') THEN
      v_params := CASE WHEN yes(p_value) THEN '+' ELSE '-' END
                  || '\' || INITCAP(v_prop);
    ELSIF v_prop = 'KEYWORD' THEN
      IF NOT REGEXP_LIKE(TRIM(p_value), '^[+-][^][(){}%*"\ [:cntrl:]]+$') THEN
        es_api.fail(es_api.c_invalid, 'KEYWORD takes +word or -word');
      END IF;
      v_params := TRIM(p_value);
    ELSIF v_prop = 'FLAGS' THEN
      v_params := es_api.check_line('flags', TRIM(p_value), 3900);
      IF v_params IS NULL THEN
        es_api.fail(es_api.c_invalid, 'FLAGS takes +\Flag and -\Flag words');
      END IF;
    ELSE
      es_api.fail(es_api.c_invalid, 'property ' || SUBSTR(p_prop, 1, 40)
                  || ': expected SEEN, ANSWERED, FLAGGED, DELETED, DRAFT, KEYWORD or FLAGS');
    END IF;
    RETURN request('SET_FLAGS', NULL, v_folder, p_uid, v_m.message_id, NULL, v_params);
  END SetMessageProp;

  FUNCTION GetPartList (p_uid IN NUMBER) RETURN SYS_REFCURSOR IS
    v_message NUMBER := current_message(p_uid).message_id;
    v_cursor  SYS_REFCURSOR;
  BEGIN
    trace('GetPartList ' || p_uid);
    OPEN v_cursor FOR
      SELECT p.part_no, p.mime_type, p.attachment_type, p.file_name, p.size_bytes, p.transfer_encoding
        FROM es_message_part p
       WHERE p.message_id = v_message
       ORDER BY p.part_no;
    RETURN v_cursor;
  END GetPartList;

  FUNCTION GetMessageHdrs (p_uid IN NUMBER) RETURN CLOB IS
  BEGIN
    trace('GetMessageHdrs ' || p_uid);
    RETURN header_text(current_message(p_uid).message_id);
  END GetMessageHdrs;

  FUNCTION GetExtendedHdrs (p_uid IN NUMBER, p_name IN VARCHAR2) RETURN VARCHAR2 IS
  BEGIN
    trace('GetExtendedHdrs ' || p_uid || ' ' || p_name);
    RETURN header_values(current_message(p_uid).message_id, p_name);
  END GetExtendedHdrs;

  FUNCTION GetMessageBody (p_uid IN NUMBER) RETURN BLOB IS
  BEGIN
    trace('GetMessageBody ' || p_uid);
    RETURN content_of(current_message(p_uid).message_id);
  END GetMessageBody;

  -- A part's body as stored: (offset from 0, bytes, encoding), from es_message_part.
  PROCEDURE part_body (
    p_message_id IN NUMBER,
    p_part_no    IN NUMBER,
    p_offset     OUT NUMBER,
    p_bytes      OUT NUMBER,
    p_encoding   OUT VARCHAR2) IS
  BEGIN
    SELECT p.body_offset, p.body_bytes, p.transfer_encoding
      INTO p_offset, p_bytes, p_encoding
      FROM es_message_part p
     WHERE p.message_id = p_message_id
       AND p.part_no = p_part_no;
    IF p_offset IS NULL THEN
      es_api.fail(es_api.c_not_found, 'part ' || p_part_no || ' was recorded without its place in the message '
                  || '(a message stored before schema step 7): read GetMessageBody');
    END IF;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      es_api.fail(es_api.c_not_found, 'no part ' || p_part_no || ' (GetPartList lists them)');
  END part_body;

  FUNCTION GetAttachmentBody (p_uid IN NUMBER, p_part_no IN NUMBER) RETURN BLOB IS
    v_message  NUMBER := current_message(p_uid).message_id;
    v_offset   NUMBER;
    v_bytes    NUMBER;
    v_encoding VARCHAR2(16);
    v_out      BLOB;
  BEGIN
    trace('GetAttachmentBody ' || p_uid || ' ' || p_part_no);
    part_body(v_message, p_part_no, v_offset, v_bytes, v_encoding);
    DBMS_LOB.CREATETEMPORARY(v_out, TRUE);
    IF v_bytes > 0 THEN
      DBMS_LOB.COPY(v_out, content_of(v_message), v_bytes, 1, v_offset + 1);
    END IF;
    RETURN v_out;
  END GetAttachmentBody;

  -- Decodes base64 text (line breaks and other characters outside the alphabet ignored).
  FUNCTION base64_decode (p_content IN BLOB, p_offset IN NUMBER, p_bytes IN NUMBER) RETURN BLOB IS
    v_out    BLOB;
    v_pos    NUMBER := p_offset + 1;
    v_end    NUMBER := p_offset + p_bytes;
    v_amount INTEGER;
    v_raw    RAW(32767);
    v_text   VARCHAR2(32767);
    v_carry  VARCHAR2(4);
    v_whole  PLS_INTEGER;
    v_dec    RAW(32767);
  BEGIN
    DBMS_LOB.CREATETEMPORARY(v_out, TRUE);
    WHILE v_pos <= v_end LOOP
      v_amount := LEAST(16000, v_end - v_pos + 1);
      DBMS_LOB.READ(p_content, v_amount, v_pos, v_raw);
      v_pos := v_pos + v_amount;
      v_text := v_carry || REGEXP_REPLACE(UTL_RAW.CAST_TO_VARCHAR2(v_raw), '[^A-Za-z0-9+/=]', '');
      v_whole := TRUNC(NVL(LENGTH(v_text), 0) / 4) * 4;
      v_carry := SUBSTR(v_text, v_whole + 1);
      IF v_whole > 0 THEN
        v_dec := UTL_ENCODE.BASE64_DECODE(UTL_RAW.CAST_TO_RAW(SUBSTR(v_text, 1, v_whole)));
        IF UTL_RAW.LENGTH(v_dec) > 0 THEN
          DBMS_LOB.WRITEAPPEND(v_out, UTL_RAW.LENGTH(v_dec), v_dec);
        END IF;
      END IF;
    END LOOP;
    RETURN v_out;
  END base64_decode;

  -- Decodes quoted-printable text, a run of whole lines at a time.
  FUNCTION qp_decode (p_content IN BLOB, p_offset IN NUMBER, p_bytes IN NUMBER) RETURN BLOB IS
    v_out    BLOB;
    v_pos    NUMBER := p_offset + 1;
    v_end    NUMBER := p_offset + p_bytes;
    v_cut    NUMBER;
    v_amount INTEGER;
    v_raw    RAW(32767);
    v_dec    RAW(32767);
  BEGIN
    DBMS_LOB.CREATETEMPORARY(v_out, TRUE);
    WHILE v_pos <= v_end LOOP
      v_cut := v_end;
      IF v_end - v_pos + 1 > 16000 THEN
        -- end the run at a line end, so that no =XX or soft break is cut in two
        v_cut := DBMS_LOB.INSTR(p_content, HEXTORAW('0A'), v_pos + 15000, 1);
        IF v_cut = 0 OR v_cut > v_end OR v_cut - v_pos + 1 > 30000 THEN
          v_cut := LEAST(v_end, v_pos + 15999);
        END IF;
      END IF;
      v_amount := v_cut - v_pos + 1;
      DBMS_LOB.READ(p_content, v_amount, v_pos, v_raw);
      v_pos := v_pos + v_amount;
      v_dec := UTL_ENCODE.QUOTED_PRINTABLE_DECODE(v_raw);
      IF UTL_RAW.LENGTH(v_dec) > 0 THEN
        DBMS_LOB.WRITEAPPEND(v_out, UTL_RAW.LENGTH(v_dec), v_dec);
      END IF;
    END LOOP;
    RETURN v_out;
  END qp_decode;

  FUNCTION GetAttachmentData (p_uid IN NUMBER, p_part_no IN NUMBER) RETURN BLOB IS
    v_message  NUMBER := current_message(p_uid).message_id;
    v_offset   NUMBER;
    v_bytes    NUMBER;
    v_encoding VARCHAR2(16);
  BEGIN
    trace('GetAttachmentData ' || p_uid || ' ' || p_part_no);
    part_body(v_message, p_part_no, v_offset, v_bytes, v_encoding);
    IF v_encoding = 'BASE64' THEN
      RETURN base64_decode(content_of(v_message), v_offset, v_bytes);
    ELSIF v_encoding = 'QUOTED-PRINTABLE' THEN
      RETURN qp_decode(content_of(v_message), v_offset, v_bytes);
    END IF;
    RETURN GetAttachmentBody(p_uid, p_part_no);
  END GetAttachmentData;

  FUNCTION GetNextAttachment (p_uid IN NUMBER, p_after_part IN NUMBER DEFAULT 0) RETURN NUMBER IS
    v_message NUMBER := current_message(p_uid).message_id;
    v_after   NUMBER := NVL(p_after_part, 0);
    v_part    NUMBER;
  BEGIN
    SELECT MIN(p.part_no)
      INTO v_part
      FROM es_message_part p
     WHERE p.message_id = v_message
       AND p.part_no > v_after
       AND (p.file_name IS NOT NULL OR p.mime_type NOT IN ('text/plain', 'text/html'));
    RETURN v_part;
  END GetNextAttachment;

  -- ------------------------------------------------------------------ message requests

  FUNCTION copy_or_move (p_kind IN VARCHAR2, p_uid IN NUMBER, p_folder IN VARCHAR2) RETURN NUMBER IS
    v_folder NUMBER := open_folder_id;
    v_m      t_message := current_message(p_uid);
  BEGIN
    trace(p_kind || ' ' || p_uid || ' ' || p_folder);
    RETURN request(p_kind, NULL, v_folder, p_uid, v_m.message_id, es_api.check_folder(p_folder), NULL);
  END copy_or_move;

  FUNCTION CopyMessage (p_uid IN NUMBER, p_folder IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    RETURN copy_or_move('COPY', p_uid, p_folder);
  END CopyMessage;

  FUNCTION CopyToFolder (p_uid IN NUMBER, p_folder IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    RETURN copy_or_move('COPY', p_uid, p_folder);
  END CopyToFolder;

  FUNCTION MoveMessage (p_uid IN NUMBER, p_folder IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    RETURN copy_or_move('MOVE', p_uid, p_folder);
  END MoveMessage;

  FUNCTION DeleteMessage (p_uid IN NUMBER) RETURN NUMBER IS
    v_folder NUMBER := open_folder_id;
    v_m      t_message := current_message(p_uid);
  BEGIN
    trace('DeleteMessage ' || p_uid);
    RETURN request('DELETE_MESSAGE', NULL, v_folder, p_uid, v_m.message_id, NULL, NULL);
  END DeleteMessage;

  FUNCTION DeleteFrom (p_folder IN VARCHAR2, p_uid IN NUMBER) RETURN NUMBER IS
    v_folder NUMBER := folder_id_of(p_folder);
    v_m      t_message := message_of(v_folder, p_uid);
  BEGIN
    trace('DeleteFrom ' || p_folder || ' ' || p_uid);
    RETURN request('DELETE_MESSAGE', NULL, v_folder, p_uid, v_m.message_id, NULL, NULL);
  END DeleteFrom;

  -- ------------------------------------------------------------------ sending

  -- {subject}, {sender}, {recipient}, {date} of a message, as the rules' templates name them.
  FUNCTION expand (p_text IN VARCHAR2, p_message_id IN NUMBER) RETURN VARCHAR2 IS
    v_subject VARCHAR2(4000 CHAR) := NVL(SUBSTR(header_values(p_message_id, 'Subject'), 1, 1000), '(no subject)');
    v_from    VARCHAR2(4000 CHAR) := SUBSTR(header_values(p_message_id, 'From'), 1, 1000);
    v_date    VARCHAR2(4000 CHAR) := SUBSTR(header_values(p_message_id, 'Date'), 1, 200);
    v_sender  VARCHAR2(4000 CHAR);
  BEGIN
    v_sender := NVL(REGEXP_SUBSTR(v_from, '<([^<>]+@[^<>]+)>', 1, 1, NULL, 1),
                    NVL(REGEXP_SUBSTR(v_from, '[^[:space:]<>",]+@[^[:space:]<>",]+'), '<>'));
    RETURN REPLACE(REPLACE(REPLACE(REPLACE(p_text, '{subject}', v_subject), '{sender}', v_sender),
                           '{recipient}', es_api.account_address), '{date}', v_date);
  END expand;

  FUNCTION forward_message (p_uid IN NUMBER, p_to IN VARCHAR2, p_text IN VARCHAR2, p_subject IN VARCHAR2) RETURN VARCHAR2 IS
    v_m t_message := current_message(p_uid);
  BEGIN
    iosend.NEW_MESSAGE;
    iosend.SET_SUBJECT(SUBSTR(REPLACE(REPLACE(expand(p_subject, v_m.message_id), CHR(13), ' '), CHR(10), ' '), 1, 900));
    IF p_text IS NOT NULL THEN
      iosend.DESCRIBE_PART('text/plain');
      iosend.ADD_CONTENT(expand(p_text, v_m.message_id));
    END IF;
    iosend.DESCRIBE_PART('message/rfc822', NULL, 'inline', 'the forwarded message');
    iosend.ADD_CONTENT(content_of(v_m.message_id));
    iosend.ADD_MIME_MARKER('mixed');
    RETURN iosend.SUBMIT(p_to => p_to);
  END forward_message;

  FUNCTION ForwardTo (p_uid IN NUMBER, p_to IN VARCHAR2, p_comment IN VARCHAR2 DEFAULT NULL) RETURN VARCHAR2 IS
  BEGIN
    trace('ForwardTo ' || p_uid || ' ' || p_to);
    RETURN forward_message(p_uid, p_to, p_comment, 'Fwd: {subject}');
  END ForwardTo;

  FUNCTION ForwardWithTemplate (
    p_uid      IN NUMBER,
    p_to       IN VARCHAR2,
    p_template IN VARCHAR2,
    p_subject  IN VARCHAR2 DEFAULT 'Fwd: {subject}') RETURN VARCHAR2 IS
  BEGIN
    trace('ForwardWithTemplate ' || p_uid || ' ' || p_to);
    RETURN forward_message(p_uid, p_to, p_template, NVL(p_subject, 'Fwd: {subject}'));
  END ForwardWithTemplate;

  FUNCTION BlindCopyTo (p_uid IN NUMBER, p_to IN VARCHAR2) RETURN NUMBER IS
  BEGIN
    trace('BlindCopyTo ' || p_uid || ' ' || p_to);
    RETURN iosend.RESEND(current_message(p_uid).message_id, p_to);
  END BlindCopyTo;

  -- ------------------------------------------------------------------ requests

  PROCEDURE request_row (
    p_request_id IN NUMBER,
    p_state      OUT VARCHAR2,
    p_uid        OUT NUMBER,
    p_error      OUT VARCHAR2) IS
    v_account NUMBER := es_api.account_id;
  BEGIN
    SELECT r.request_state, r.result_uid, r.error_text
      INTO p_state, p_uid, p_error
      FROM es_mailbox_request r
     WHERE r.request_id = p_request_id
       AND r.account_id = v_account;
  EXCEPTION
    WHEN NO_DATA_FOUND THEN
      es_api.fail(es_api.c_not_found, 'no request ' || p_request_id || ' of ' || es_api.account_address);
  END request_row;

  FUNCTION RequestState (p_request_id IN NUMBER) RETURN VARCHAR2 IS
    v_state VARCHAR2(16 CHAR);
    v_uid   NUMBER;
    v_error VARCHAR2(4000 CHAR);
  BEGIN
    request_row(p_request_id, v_state, v_uid, v_error);
    RETURN CASE WHEN v_state = 'FAILED' THEN SUBSTR('FAILED: ' || v_error, 1, 4000) ELSE v_state END;
  END RequestState;

  FUNCTION RequestUid (p_request_id IN NUMBER) RETURN NUMBER IS
    v_state VARCHAR2(16 CHAR);
    v_uid   NUMBER;
    v_error VARCHAR2(4000 CHAR);
  BEGIN
    request_row(p_request_id, v_state, v_uid, v_error);
    RETURN v_uid;
  END RequestUid;
END im_api;
/
