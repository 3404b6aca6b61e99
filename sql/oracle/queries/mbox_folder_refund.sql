UPDATE es_account
SET used_bytes = GREATEST(0, used_bytes - (SELECT COALESCE(SUM(m.size_bytes), 0)
                                          FROM es_folder_message fm
                                          JOIN es_message m ON m.message_id = fm.message_id
                                          WHERE fm.folder_id = :folder_id))
WHERE object_id = :account_id
