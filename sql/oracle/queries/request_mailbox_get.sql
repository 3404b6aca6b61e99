SELECT r.request_id, r.account_id, r.request_kind, r.folder_path, r.folder_id, r.msg_uid, r.message_id,
       r.target_path, r.params, r.attempts
FROM es_mailbox_request r
WHERE r.request_id = :request_id
