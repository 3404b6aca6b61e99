SELECT 'messages' AS what, COUNT(*) AS how_many FROM es_message
UNION ALL SELECT 'pointers', COUNT(*) FROM es_folder_message
UNION ALL SELECT 'folders', COUNT(*) FROM es_folder
UNION ALL SELECT 'accounts', COUNT(*) FROM es_account
UNION ALL SELECT 'aliases', COUNT(*) FROM es_alias
UNION ALL SELECT 'list_members', COUNT(*) FROM es_dl_member
UNION ALL SELECT 'queue_entries', COUNT(*) FROM es_queue_entry
UNION ALL SELECT 'queue_recipients', COUNT(*) FROM es_queue_recipient
