SELECT message_id
FROM es_message
WHERE NOT EXISTS (SELECT 1 FROM es_folder_message fm WHERE fm.message_id = es_message.message_id)
  AND NOT EXISTS (SELECT 1 FROM es_queue_entry qe WHERE qe.message_id = es_message.message_id)
  AND NOT EXISTS (SELECT 1 FROM es_mailbox_request mr WHERE mr.message_id = es_message.message_id AND mr.request_state = 'PENDING')
ORDER BY message_id
LIMIT :batch_size
