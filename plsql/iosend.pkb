CREATE OR REPLACE PACKAGE BODY iosend AS
  c_crlf           CONSTANT VARCHAR2(2) := CHR(13) || CHR(10);
  c_max_recipients CONSTANT PLS_INTEGER := 1000;
  c_max_parts      CONSTANT PLS_INTEGER := 100;
  c_max_headers    CONSTANT PLS_INTEGER := 100;
  -- 57 bytes make one 76-character line of base64; 210 such lines are encoded at a time
  c_b64_chunk      CONSTANT PLS_INTEGER := 57 * 210;

  TYPE t_part IS RECORD (
    content_type VARCHAR2(1000 CHAR),
    mime_type    VARCHAR2(255 CHAR),
    file_name    VARCHAR2(255 CHAR),
    disposition  VARCHAR2(16),
    description  VARCHAR2(1000 CHAR),
    attributes   VARCHAR2(8000 CHAR),
    kind         VARCHAR2(4),
    text_body    CLOB,
    data_body    BLOB);
  TYPE t_parts IS TABLE OF t_part INDEX BY PLS_INTEGER;

  TYPE t_rcpt IS RECORD (
    kind    VARCHAR2(3),
    address VARCHAR2(320 CHAR));
  TYPE t_rcpts IS TABLE OF t_rcpt INDEX BY PLS_INTEGER;

  TYPE t_headers IS TABLE OF VARCHAR2(4000 CHAR) INDEX BY PLS_INTEGER;

  -- where a leaf part's body lies in the content, for es_message_part
  TYPE t_body IS RECORD (
    part_no      PLS_INTEGER,
    mime_type    VARCHAR2(255 CHAR),
    file_name    VARCHAR2(255 CHAR),
    decoded_size NUMBER,
    body_offset  NUMBER,
    body_bytes   NUMBER,
    encoding     VARCHAR2(16));
  TYPE t_bodies IS TABLE OF t_body INDEX BY PLS_INTEGER;

  g_parts        t_parts;
  g_rcpts        t_rcpts;
  g_headers      t_headers;
  g_subject      VARCHAR2(1000 CHAR);
  g_multipart    VARCHAR2(64);
  g_copy         VARCHAR2(1000 CHAR);
  g_last_message NUMBER;

  PROCEDURE invalid (p_message IN VARCHAR2) IS
  BEGIN
    es_api.fail(es_api.c_invalid, p_message);
  END invalid;

  -- ------------------------------------------------------------------ text helpers

  FUNCTION utf8 (p_text IN VARCHAR2) RETURN RAW IS
  BEGIN
    RETURN UTL_I18N.STRING_TO_RAW(p_text, 'AL32UTF8');
  END utf8;

  FUNCTION is_ascii (p_text IN VARCHAR2) RETURN BOOLEAN IS
  BEGIN
    RETURN p_text IS NULL OR UTL_RAW.LENGTH(utf8(p_text)) = LENGTH(p_text);
  END is_ascii;

  -- RFC 2047: a header text that is not ASCII becomes encoded words (UTF-8, base64), folded.
  FUNCTION encode_words (p_text IN VARCHAR2) RETURN VARCHAR2 IS
    v_out VARCHAR2(32767);
    v_pos PLS_INTEGER := 1;
  BEGIN
    IF is_ascii(p_text) THEN
      RETURN p_text;
    END IF;
    WHILE v_pos <= LENGTH(p_text) LOOP
      IF v_out IS NOT NULL THEN
        v_out := v_out || c_crlf || ' ';
      END IF;
      -- 10 characters are at most 40 bytes: one encoded word of at most 68 characters
      v_out := v_out || '=?UTF-8?B?'
               || UTL_RAW.CAST_TO_VARCHAR2(UTL_ENCODE.BASE64_ENCODE(utf8(SUBSTR(p_text, v_pos, 10))))
               || '?=';
      v_pos := v_pos + 10;
    END LOOP;
    RETURN v_out;
  END encode_words;

  -- A parameter value (file names): quoted, or RFC 2231 encoded when it is not ASCII.
  FUNCTION mime_param (p_name IN VARCHAR2, p_value IN VARCHAR2) RETURN VARCHAR2 IS
    v_escaped VARCHAR2(32767);
  BEGIN
    IF is_ascii(p_value) THEN
      RETURN p_name || '="' || REPLACE(REPLACE(p_value, '\', '\\'), '"', '\"') || '"';
    END IF;
    v_escaped := UTL_URL.ESCAPE(p_value, TRUE, 'AL32UTF8');
    v_escaped := REPLACE(REPLACE(REPLACE(REPLACE(v_escaped, '''', '%27'), '*', '%2A'), '(', '%28'), ')', '%29');
    RETURN p_name || '*=UTF-8''''' || v_escaped;
  END mime_param;

  -- The Oracle user, as a word of the Received header.
  FUNCTION word (p_text IN VARCHAR2) RETURN VARCHAR2 IS
  BEGIN
    RETURN NVL(REGEXP_REPLACE(SUBSTR(p_text, 1, 128), '[^A-Za-z0-9_$#.@-]', '?'), 'unknown');
  END word;

  -- ------------------------------------------------------------------ writing the content

  PROCEDURE put (p_content IN OUT NOCOPY BLOB, p_text IN VARCHAR2) IS
    v_raw RAW(32767);
  BEGIN
    IF p_text IS NOT NULL THEN
      v_raw := utf8(p_text);
      DBMS_LOB.WRITEAPPEND(p_content, UTL_RAW.LENGTH(v_raw), v_raw);
    END IF;
  END put;

  PROCEDURE put_base64 (p_content IN OUT NOCOPY BLOB, p_data IN BLOB) IS
    v_len    NUMBER := NVL(DBMS_LOB.GETLENGTH(p_data), 0);
    v_off    NUMBER := 1;
    v_amount INTEGER;
    v_chunk  RAW(32767);
    v_text   VARCHAR2(32767);
    v_buf    VARCHAR2(32767);
    v_at     PLS_INTEGER;
  BEGIN
    WHILE v_off <= v_len LOOP
      v_amount := LEAST(c_b64_chunk, v_len - v_off + 1);
      DBMS_LOB.READ(p_data, v_amount, v_off, v_chunk);
      -- UTL_ENCODE breaks its lines itself: take them out and write 76-character lines
      v_text := REPLACE(REPLACE(UTL_RAW.CAST_TO_VARCHAR2(UTL_ENCODE.BASE64_ENCODE(v_chunk)), CHR(13)), CHR(10));
      v_buf := NULL;
      v_at := 1;
      WHILE v_at <= LENGTH(v_text) LOOP
        v_buf := v_buf || SUBSTR(v_text, v_at, 76) || c_crlf;
        v_at := v_at + 76;
      END LOOP;
      put(p_content, v_buf);
      v_off := v_off + v_amount;
    END LOOP;
  END put_base64;

  -- The text of a part in UTF-8 with CRLF line ends; p_chars: its length in characters.
  FUNCTION text_bytes (p_text IN CLOB, p_chars OUT NUMBER) RETURN BLOB IS
    v_text  CLOB;
    v_bytes BLOB;
    v_dest  INTEGER := 1;
    v_src   INTEGER := 1;
    v_ctx   INTEGER := DBMS_LOB.DEFAULT_LANG_CTX;
    v_warn  INTEGER;
  BEGIN
    DBMS_LOB.CREATETEMPORARY(v_bytes, TRUE);
    p_chars := 0;
    IF p_text IS NULL OR DBMS_LOB.GETLENGTH(p_text) = 0 THEN
      RETURN v_bytes;
    END IF;
    v_text := REPLACE(REPLACE(REPLACE(p_text, c_crlf, CHR(10)), CHR(13), CHR(10)), CHR(10), c_crlf);
    p_chars := DBMS_LOB.GETLENGTH(v_text);
    DBMS_LOB.CONVERTTOBLOB(v_bytes, v_text, DBMS_LOB.LOBMAXSIZE, v_dest, v_src,
                           NLS_CHARSET_ID('AL32UTF8'), v_ctx, v_warn);
    IF DBMS_LOB.ISTEMPORARY(v_text) = 1 THEN
      DBMS_LOB.FREETEMPORARY(v_text);
    END IF;
    RETURN v_bytes;
  END text_bytes;

  -- Writes part p_index (its MIME header, a blank line, its body) and records where its body is.
  PROCEDURE put_part (
    p_content IN OUT NOCOPY BLOB,
    p_index   IN PLS_INTEGER,
    p_part_no IN PLS_INTEGER,
    p_bodies  IN OUT NOCOPY t_bodies) IS
    v_part     t_part := g_parts(p_index);
    v_bytes    BLOB;
    v_encoding VARCHAR2(16);
    v_type     VARCHAR2(2000 CHAR) := v_part.content_type;
    v_body     t_body;
    v_long     BOOLEAN := FALSE;
    v_chars    NUMBER;
  BEGIN
    IF v_part.kind = 'DATA' AND v_part.mime_type = 'message/rfc822' THEN
      -- an embedded message is written as it is (RFC 2046 allows no base64 there)
      v_bytes := v_part.data_body;
      v_encoding := '8bit';
    ELSIF v_part.kind = 'DATA' THEN
      v_bytes := v_part.data_body;
      v_encoding := 'base64';
    ELSE
      v_bytes := text_bytes(v_part.text_body, v_chars);
      IF v_part.text_body IS NOT NULL THEN
        v_long := REGEXP_INSTR(v_part.text_body, '[^' || CHR(10) || CHR(13) || ']{250}') > 0;
      END IF;
      IF v_long THEN
        v_encoding := 'base64';
      ELSIF DBMS_LOB.GETLENGTH(v_bytes) = v_chars THEN
        -- as many bytes as characters: ASCII
        v_encoding := '7bit';
      ELSE
        v_encoding := '8bit';
      END IF;
    END IF;
    IF v_part.file_name IS NOT NULL AND NOT REGEXP_LIKE(v_type, ';\s*name\*?=', 'i') THEN
      v_type := v_type || '; ' || mime_param('name', v_part.file_name);
    END IF;
    put(p_content, 'Content-Type: ' || v_type || c_crlf);
    put(p_content, 'Content-Transfer-Encoding: ' || v_encoding || c_crlf);
    IF v_part.disposition IS NOT NULL THEN
      put(p_content, 'Content-Disposition: ' || v_part.disposition
                     || CASE WHEN v_part.file_name IS NOT NULL THEN '; ' || mime_param('filename', v_part.file_name) END
                     || c_crlf);
    END IF;
    IF v_part.description IS NOT NULL THEN
      put(p_content, 'Content-Description: ' || encode_words(v_part.description) || c_crlf);
    END IF;
    put(p_content, v_part.attributes);
    put(p_content, c_crlf);
    v_body.part_no := p_part_no;
    v_body.mime_type := v_part.mime_type;
    v_body.file_name := v_part.file_name;
    v_body.decoded_size := NVL(DBMS_LOB.GETLENGTH(v_bytes), 0);
    v_body.body_offset := DBMS_LOB.GETLENGTH(p_content);
    IF v_encoding = 'base64' THEN
      put_base64(p_content, v_bytes);
      v_body.encoding := 'BASE64';
    ELSIF DBMS_LOB.GETLENGTH(v_bytes) > 0 THEN
      DBMS_LOB.APPEND(p_content, v_bytes);
    END IF;
    v_body.body_bytes := DBMS_LOB.GETLENGTH(p_content) - v_body.body_offset;
    p_bodies(p_bodies.COUNT + 1) := v_body;
    IF NVL(v_part.kind, 'TEXT') = 'TEXT' THEN
      DBMS_LOB.FREETEMPORARY(v_bytes);
    END IF;
  END put_part;

  FUNCTION attachment_type (p_mime IN VARCHAR2) RETURN VARCHAR2 IS
    v_type VARCHAR2(32 CHAR);
    v_top  VARCHAR2(255 CHAR) := UPPER(SUBSTR(p_mime, 1, INSTR(p_mime, '/') - 1));
  BEGIN
    SELECT MIN(m.attachment_type)
      INTO v_type
      FROM es_mime_map m
     WHERE LOWER(m.mime_type) = p_mime;
    IF v_type IS NOT NULL THEN
      RETURN v_type;
    END IF;
    IF v_top IN ('TEXT', 'IMAGE', 'AUDIO', 'VIDEO', 'APPLICATION', 'MESSAGE') THEN
      RETURN v_top;
    END IF;
    RETURN 'BINARY';
  END attachment_type;

  -- ------------------------------------------------------------------ building the message

  PROCEDURE free_parts IS
  BEGIN
    FOR i IN 1 .. g_parts.COUNT LOOP
      IF g_parts(i).text_body IS NOT NULL AND DBMS_LOB.ISTEMPORARY(g_parts(i).text_body) = 1 THEN
        DBMS_LOB.FREETEMPORARY(g_parts(i).text_body);
      END IF;
      IF g_parts(i).data_body IS NOT NULL AND DBMS_LOB.ISTEMPORARY(g_parts(i).data_body) = 1 THEN
        DBMS_LOB.FREETEMPORARY(g_parts(i).data_body);
      END IF;
    END LOOP;
    g_parts.DELETE;
  END free_parts;

  PROCEDURE NEW_MESSAGE IS
  BEGIN
    free_parts;
    g_rcpts.DELETE;
    g_headers.DELETE;
    g_subject := NULL;
    g_multipart := NULL;
    g_copy := NULL;
  END NEW_MESSAGE;

  PROCEDURE AUTHENTICATE (p_address IN VARCHAR2, p_password IN VARCHAR2 DEFAULT NULL) IS
  BEGIN
    es_api.set_account(p_address);
    NEW_MESSAGE;
  END AUTHENTICATE;

  FUNCTION split_addresses (p_list IN VARCHAR2, p_kind IN VARCHAR2) RETURN t_rcpts IS
    v_out  t_rcpts;
    v_rest VARCHAR2(32767) := TRANSLATE(p_list, ';', ',');
    v_item VARCHAR2(32767);
    v_cut  PLS_INTEGER;
    v_rcpt t_rcpt;
  BEGIN
    WHILE v_rest IS NOT NULL LOOP
      v_cut := INSTR(v_rest, ',');
      IF v_cut = 0 THEN
        v_item := v_rest;
        v_rest := NULL;
      ELSE
        v_item := SUBSTR(v_rest, 1, v_cut - 1);
        v_rest := SUBSTR(v_rest, v_cut + 1);
      END IF;
      IF TRIM(v_item) IS NOT NULL THEN
        v_rcpt.kind := p_kind;
        v_rcpt.address := es_api.check_address('recipient', v_item);
        v_out(v_out.COUNT + 1) := v_rcpt;
      END IF;
    END LOOP;
    RETURN v_out;
  END split_addresses;

  PROCEDURE ADD_RECIPIENT (p_address IN VARCHAR2, p_kind IN VARCHAR2 DEFAULT 'TO') IS
    v_rcpt t_rcpt;
  BEGIN
    v_rcpt.kind := UPPER(TRIM(NVL(p_kind, 'TO')));
    IF v_rcpt.kind NOT IN ('TO', 'CC', 'BCC') THEN
      invalid('recipient kind ' || SUBSTR(p_kind, 1, 20) || ': expected TO, CC or BCC');
    END IF;
    v_rcpt.address := es_api.check_address('recipient', p_address);
    FOR i IN 1 .. g_rcpts.COUNT LOOP
      IF LOWER(g_rcpts(i).address) = LOWER(v_rcpt.address) THEN
        RETURN;
      END IF;
    END LOOP;
    IF g_rcpts.COUNT >= c_max_recipients THEN
      invalid('a message has at most ' || c_max_recipients || ' recipients');
    END IF;
    g_rcpts(g_rcpts.COUNT + 1) := v_rcpt;
  END ADD_RECIPIENT;

  PROCEDURE add_list (p_list IN VARCHAR2, p_kind IN VARCHAR2) IS
    v_list t_rcpts := split_addresses(p_list, p_kind);
  BEGIN
    FOR i IN 1 .. v_list.COUNT LOOP
      ADD_RECIPIENT(v_list(i).address, p_kind);
    END LOOP;
  END add_list;

  PROCEDURE SET_SUBJECT (p_subject IN VARCHAR2) IS
  BEGIN
    g_subject := es_api.check_line('subject', p_subject, 900);
  END SET_SUBJECT;

  PROCEDURE ADD_EXTRA_HEADER (p_name IN VARCHAR2, p_value IN VARCHAR2) IS
    v_name  VARCHAR2(128 CHAR) := es_api.check_header_name('header', p_name);
    v_upper VARCHAR2(128 CHAR) := UPPER(v_name);
    v_value VARCHAR2(4000 CHAR) := es_api.check_line(v_name, p_value, 900);
  BEGIN
    IF v_upper IN ('FROM', 'TO', 'CC', 'BCC', 'SUBJECT', 'DATE', 'MESSAGE-ID', 'MIME-VERSION',
                   'RECEIVED', 'RETURN-PATH', 'SENDER')
       OR v_upper LIKE 'CONTENT-%' THEN
      invalid('header ' || v_name || ' is written by IOSEND itself');
    END IF;
    IF g_headers.COUNT >= c_max_headers THEN
      invalid('a message has at most ' || c_max_headers || ' extra header fields');
    END IF;
    g_headers(g_headers.COUNT + 1) := v_name || ': ' || encode_words(v_value);
  END ADD_EXTRA_HEADER;

  PROCEDURE ADD_MIME_MARKER (p_subtype IN VARCHAR2 DEFAULT 'mixed') IS
    v_sub VARCHAR2(64) := LOWER(TRIM(NVL(p_subtype, 'mixed')));
  BEGIN
    IF ASCIISTR(v_sub) <> v_sub OR NOT REGEXP_LIKE(v_sub, '^[[:alnum:]][[:alnum:].+-]{0,40}$') THEN
      invalid('multipart subtype ' || SUBSTR(p_subtype, 1, 60) || ': expected mixed, alternative, related ...');
    END IF;
    g_multipart := v_sub;
  END ADD_MIME_MARKER;

  PROCEDURE DESCRIBE_PART (
    p_content_type IN VARCHAR2 DEFAULT 'text/plain',
    p_file_name    IN VARCHAR2 DEFAULT NULL,
    p_disposition  IN VARCHAR2 DEFAULT NULL,
    p_description  IN VARCHAR2 DEFAULT NULL) IS
    v_part t_part;
    v_type VARCHAR2(1000 CHAR) := TRIM(NVL(p_content_type, 'text/plain'));
  BEGIN
    IF LENGTH(v_type) > 900 OR REGEXP_LIKE(v_type, '[[:cntrl:]]') THEN
      invalid('content type: one line of at most 900 characters');
    END IF;
    v_part.mime_type := LOWER(TRIM(REGEXP_SUBSTR(v_type, '^[^;]+')));
    IF ASCIISTR(v_part.mime_type) <> v_part.mime_type
       OR NOT REGEXP_LIKE(v_part.mime_type, '^[[:alnum:]!#$&^_.+-]+/[[:alnum:]!#$&^_.+-]+$') THEN
      invalid('content type ' || SUBSTR(p_content_type, 1, 200) || ': expected type/subtype');
    END IF;
    IF v_part.mime_type LIKE 'multipart/%' THEN
      invalid('content type ' || v_part.mime_type || ': call ADD_MIME_MARKER for a multipart message');
    END IF;
    IF v_part.mime_type LIKE 'text/%' AND NOT REGEXP_LIKE(v_type, 'charset', 'i') THEN
      v_type := v_type || '; charset=utf-8';
    END IF;
    v_part.content_type := v_type;
    v_part.file_name := es_api.check_line('file name', TRIM(p_file_name), 255);
    v_part.disposition := LOWER(TRIM(p_disposition));
    IF v_part.disposition IS NULL AND v_part.file_name IS NOT NULL THEN
      v_part.disposition := 'attachment';
    END IF;
    IF v_part.disposition NOT IN ('inline', 'attachment') THEN
      invalid('disposition ' || SUBSTR(p_disposition, 1, 40) || ': expected inline or attachment');
    END IF;
    v_part.description := es_api.check_line('description', p_description, 900);
    IF g_parts.COUNT >= c_max_parts THEN
      invalid('a message has at most ' || c_max_parts || ' parts');
    END IF;
    g_parts(g_parts.COUNT + 1) := v_part;
  END DESCRIBE_PART;

  PROCEDURE ADD_ATTRIBUTE (p_name IN VARCHAR2, p_value IN VARCHAR2) IS
    v_name  VARCHAR2(128 CHAR) := es_api.check_header_name('attribute', p_name);
    v_value VARCHAR2(4000 CHAR) := es_api.check_line(v_name, p_value, 900);
    v_n     PLS_INTEGER := g_parts.COUNT;
  BEGIN
    IF v_n = 0 THEN
      invalid('no part yet: call DESCRIBE_PART first');
    END IF;
    IF UPPER(v_name) IN ('CONTENT-TYPE', 'CONTENT-TRANSFER-ENCODING', 'CONTENT-DISPOSITION', 'CONTENT-DESCRIPTION') THEN
      invalid('attribute ' || v_name || ' is written by IOSEND from DESCRIBE_PART');
    END IF;
    IF NVL(LENGTH(g_parts(v_n).attributes), 0) + LENGTH(v_name) + NVL(LENGTH(v_value), 0) + 4 > 8000 THEN
      invalid('a part has at most 8000 characters of attributes');
    END IF;
    g_parts(v_n).attributes := g_parts(v_n).attributes || v_name || ': ' || encode_words(v_value) || c_crlf;
  END ADD_ATTRIBUTE;

  -- The part content is appended to: the last one, or a new one of p_default_type.
  FUNCTION current_part (p_kind IN VARCHAR2, p_default_type IN VARCHAR2) RETURN PLS_INTEGER IS
    v_n PLS_INTEGER := g_parts.COUNT;
  BEGIN
    IF v_n = 0 THEN
      DESCRIBE_PART(p_default_type);
      v_n := g_parts.COUNT;
    END IF;
    IF g_parts(v_n).kind IS NOT NULL AND g_parts(v_n).kind <> p_kind THEN
      invalid('a part holds text or binary content, not both: call DESCRIBE_PART for a new part');
    END IF;
    g_parts(v_n).kind := p_kind;
    RETURN v_n;
  END current_part;

  PROCEDURE ADD_CONTENT (p_text IN VARCHAR2) IS
    v_n PLS_INTEGER;
  BEGIN
    IF p_text IS NULL THEN
      RETURN;
    END IF;
    v_n := current_part('TEXT', 'text/plain');
    IF g_parts(v_n).text_body IS NULL THEN
      DBMS_LOB.CREATETEMPORARY(g_parts(v_n).text_body, TRUE);
    END IF;
    DBMS_LOB.WRITEAPPEND(g_parts(v_n).text_body, LENGTH(p_text), p_text);
  END ADD_CONTENT;

  PROCEDURE ADD_CONTENT (p_text IN CLOB) IS
    v_n PLS_INTEGER;
  BEGIN
    IF p_text IS NULL OR DBMS_LOB.GETLENGTH(p_text) = 0 THEN
      RETURN;
    END IF;
    v_n := current_part('TEXT', 'text/plain');
    IF g_parts(v_n).text_body IS NULL THEN
      DBMS_LOB.CREATETEMPORARY(g_parts(v_n).text_body, TRUE);
    END IF;
    DBMS_LOB.APPEND(g_parts(v_n).text_body, p_text);
  END ADD_CONTENT;

  PROCEDURE ADD_CONTENT (p_data IN BLOB) IS
    v_n PLS_INTEGER;
  BEGIN
    IF p_data IS NULL OR DBMS_LOB.GETLENGTH(p_data) = 0 THEN
      RETURN;
    END IF;
    v_n := current_part('DATA', 'application/octet-stream');
    IF g_parts(v_n).data_body IS NULL THEN
      DBMS_LOB.CREATETEMPORARY(g_parts(v_n).data_body, TRUE);
    END IF;
    DBMS_LOB.APPEND(g_parts(v_n).data_body, p_data);
  END ADD_CONTENT;

  PROCEDURE FOLDER_CARBON_COPY (p_folder IN VARCHAR2 DEFAULT 'Sent') IS
  BEGIN
    g_copy := es_api.check_folder(NVL(p_folder, 'Sent'));
  END FOLDER_CARBON_COPY;

  PROCEDURE put_addresses (p_content IN OUT NOCOPY BLOB, p_name IN VARCHAR2, p_kind IN VARCHAR2) IS
    v_line VARCHAR2(32767);
  BEGIN
    FOR i IN 1 .. g_rcpts.COUNT LOOP
      IF g_rcpts(i).kind = p_kind THEN
        IF v_line IS NULL THEN
          v_line := p_name || ': ' || g_rcpts(i).address;
        ELSE
          put(p_content, v_line || ',' || c_crlf);
          v_line := ' ' || g_rcpts(i).address;
        END IF;
      END IF;
    END LOOP;
    IF v_line IS NOT NULL THEN
      put(p_content, v_line || c_crlf);
    END IF;
  END put_addresses;

  -- ------------------------------------------------------------------ queueing

  -- A SUBMISSION queue entry for a stored message and its recipients, as the intake writes it.
  FUNCTION queue_entry (
    p_message_id IN NUMBER,
    p_entry_guid IN VARCHAR2,
    p_rcpts      IN t_rcpts) RETURN NUMBER IS
    v_node     NUMBER := es_api.local_node_id;
    v_account  NUMBER := es_api.account_id;
    v_from     VARCHAR2(320 CHAR) := es_api.account_address;
    v_now      TIMESTAMP WITH TIME ZONE := es_api.now_utc;
    v_entry_id NUMBER;
    v_address  VARCHAR2(320 CHAR);
  BEGIN
    INSERT INTO es_queue_entry (guid, queue_name, node_id, target_node_id, gateway_name, message_id, sender_address,
                                submitted_by, priority, attempts, next_attempt_at, not_before, created_at)
    VALUES (p_entry_guid, 'SUBMISSION', v_node, NULL, NULL, p_message_id, v_from,
            v_account, 5, 0, v_now, NULL, v_now)
    RETURNING entry_id INTO v_entry_id;
    FOR i IN 1 .. p_rcpts.COUNT LOOP
      v_address := p_rcpts(i).address;
      INSERT INTO es_queue_recipient (entry_id, rcpt_pos, address, rcpt_status)
      VALUES (v_entry_id, i, v_address, 'PENDING');
    END LOOP;
    RETURN v_entry_id;
  END queue_entry;

  FUNCTION SUBMIT (
    p_subject IN VARCHAR2 DEFAULT NULL,
    p_to      IN VARCHAR2 DEFAULT NULL,
    p_cc      IN VARCHAR2 DEFAULT NULL,
    p_bcc     IN VARCHAR2 DEFAULT NULL) RETURN VARCHAR2 IS
    v_account    NUMBER := es_api.account_id;
    v_from       VARCHAR2(320 CHAR) := es_api.account_address;
    v_node       NUMBER := es_api.local_node_id;
    v_now        TIMESTAMP WITH TIME ZONE := es_api.now_utc;
    v_guid       VARCHAR2(36) := es_api.new_guid;
    v_entry_guid VARCHAR2(36) := es_api.new_guid;
    v_caller     VARCHAR2(128 CHAR) := es_api.caller;
    v_msgid      VARCHAR2(400 CHAR);
    v_date       VARCHAR2(64);
    v_host       VARCHAR2(255 CHAR);
    v_boundary   VARCHAR2(64);
    v_content    BLOB;
    v_bodies     t_bodies;
    v_size       NUMBER;
    v_sha        VARCHAR2(64);
    v_message_id NUMBER;
    v_entry_id   NUMBER;
    v_part_no    NUMBER;
    v_mime       VARCHAR2(255 CHAR);
    v_attachment VARCHAR2(32 CHAR);
    v_file_name  VARCHAR2(255 CHAR);
    v_decoded    NUMBER;
    v_offset     NUMBER;
    v_bytes      NUMBER;
    v_encoding   VARCHAR2(16);
    v_folder     VARCHAR2(1000 CHAR);
  BEGIN
    add_list(p_to, 'TO');
    add_list(p_cc, 'CC');
    add_list(p_bcc, 'BCC');
    IF p_subject IS NOT NULL THEN
      SET_SUBJECT(p_subject);
    END IF;
    IF g_rcpts.COUNT = 0 THEN
      invalid('the message has no recipient');
    END IF;
    IF g_parts.COUNT = 0 THEN
      DESCRIBE_PART('text/plain');
    END IF;
    v_msgid := v_guid || '@' || SUBSTR(v_from, INSTR(v_from, '@', -1) + 1);
    v_date := TO_CHAR(v_now, 'Dy, DD Mon YYYY HH24:MI:SS', 'NLS_DATE_LANGUAGE=AMERICAN') || ' +0000';
    BEGIN
      SELECT n.host_name
        INTO v_host
        FROM es_node n
       WHERE n.node_id = v_node;
    EXCEPTION
      WHEN NO_DATA_FOUND THEN
        v_host := NULL;
    END;
    v_host := word(NVL(v_host, SUBSTR(v_from, INSTR(v_from, '@', -1) + 1)));

    DBMS_LOB.CREATETEMPORARY(v_content, TRUE);
    put(v_content, 'Received: from ' || word(v_caller) || ' (PL/SQL IOSEND)' || c_crlf
                   || CHR(9) || 'by ' || v_host || ' (esmail) with PLSQL id ' || v_entry_guid || ';' || c_crlf
                   || CHR(9) || v_date || c_crlf);
    put(v_content, 'Date: ' || v_date || c_crlf);
    put(v_content, 'From: ' || v_from || c_crlf);
    put_addresses(v_content, 'To', 'TO');
    put_addresses(v_content, 'Cc', 'CC');
    IF g_subject IS NOT NULL THEN
      put(v_content, 'Subject: ' || encode_words(g_subject) || c_crlf);
    END IF;
    put(v_content, 'Message-ID: <' || v_msgid || '>' || c_crlf);
    put(v_content, 'MIME-Version: 1.0' || c_crlf);
    FOR i IN 1 .. g_headers.COUNT LOOP
      put(v_content, g_headers(i) || c_crlf);
    END LOOP;
    IF g_multipart IS NULL AND g_parts.COUNT = 1 THEN
      -- a simple message: the part's header fields are the message's; its number is 1
      put_part(v_content, 1, 1, v_bodies);
    ELSE
      -- a multipart: the container is part 1, its parts 2, 3 ... (as the intake numbers them)
      v_boundary := '=_esmail_' || REPLACE(es_api.new_guid, '-');
      put(v_content, 'Content-Type: multipart/' || NVL(g_multipart, 'mixed') || '; boundary="' || v_boundary || '"'
                     || c_crlf || c_crlf || 'This is a message in MIME format.' || c_crlf);
      FOR i IN 1 .. g_parts.COUNT LOOP
        IF i > 1 THEN
          put(v_content, c_crlf);
        END IF;
        put(v_content, '--' || v_boundary || c_crlf);
        put_part(v_content, i, i + 1, v_bodies);
      END LOOP;
      put(v_content, c_crlf || '--' || v_boundary || '--' || c_crlf);
    END IF;

    v_size := DBMS_LOB.GETLENGTH(v_content);
    v_sha := LOWER(RAWTOHEX(DBMS_CRYPTO.HASH(v_content, DBMS_CRYPTO.HASH_SH256)));
    INSERT INTO es_message (guid, origin_node_id, size_bytes, sha256, rfc822_msgid, received_at, pointer_count,
                            content)
    VALUES (v_guid, v_node, v_size, v_sha, v_msgid, v_now, 0, v_content)
    RETURNING message_id INTO v_message_id;
    FOR i IN 1 .. v_bodies.COUNT LOOP
      v_part_no := v_bodies(i).part_no;
      v_mime := v_bodies(i).mime_type;
      v_attachment := attachment_type(v_bodies(i).mime_type);
      v_file_name := v_bodies(i).file_name;
      v_decoded := v_bodies(i).decoded_size;
      v_offset := v_bodies(i).body_offset;
      v_bytes := v_bodies(i).body_bytes;
      v_encoding := v_bodies(i).encoding;
      INSERT INTO es_message_part (message_id, part_no, mime_type, attachment_type, file_name, size_bytes,
                                   body_offset, body_bytes, transfer_encoding)
      VALUES (v_message_id, v_part_no, v_mime, v_attachment, v_file_name, v_decoded,
              v_offset, v_bytes, v_encoding);
    END LOOP;
    v_entry_id := queue_entry(v_message_id, v_entry_guid, g_rcpts);
    IF g_copy IS NOT NULL THEN
      v_folder := g_copy;
      INSERT INTO es_mailbox_request (account_id, request_kind, folder_path, message_id, params, request_state,
                                      attempts, requested_by, created_at)
      VALUES (v_account, 'APPEND', v_folder, v_message_id, '\Seen', 'PENDING', 0, v_caller, v_now);
    END IF;
    DBMS_LOB.FREETEMPORARY(v_content);
    g_last_message := v_message_id;
    NEW_MESSAGE;
    RETURN v_msgid;
  END SUBMIT;

  PROCEDURE SEND (
    p_subject IN VARCHAR2 DEFAULT NULL,
    p_to      IN VARCHAR2 DEFAULT NULL,
    p_cc      IN VARCHAR2 DEFAULT NULL,
    p_bcc     IN VARCHAR2 DEFAULT NULL) IS
    v_msgid VARCHAR2(400 CHAR);
  BEGIN
    v_msgid := SUBMIT(p_subject, p_to, p_cc, p_bcc);
  END SEND;

  FUNCTION RESEND (p_message_id IN NUMBER, p_to IN VARCHAR2) RETURN NUMBER IS
    v_account NUMBER := es_api.account_id;
    v_rcpts   t_rcpts := split_addresses(p_to, 'BCC');
    v_n       NUMBER;
  BEGIN
    SELECT COUNT(*)
      INTO v_n
      FROM es_folder_message fm
     WHERE fm.message_id = p_message_id
       AND fm.account_id = v_account;
    IF v_n = 0 THEN
      es_api.fail(es_api.c_not_found, 'message ' || p_message_id || ' is in none of the folders of '
                                      || es_api.account_address);
    END IF;
    IF v_rcpts.COUNT = 0 THEN
      invalid('no recipient');
    END IF;
    RETURN queue_entry(p_message_id, es_api.new_guid, v_rcpts);
  END RESEND;

  FUNCTION LAST_MESSAGE_ID RETURN NUMBER IS
  BEGIN
    RETURN g_last_message;
  END LAST_MESSAGE_ID;
END iosend;
/
