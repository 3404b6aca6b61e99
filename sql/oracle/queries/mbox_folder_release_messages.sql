UPDATE es_message
SET pointer_count = pointer_count - (SELECT COUNT(*) FROM es_folder_message fm
                                     WHERE fm.message_id = es_message.message_id AND fm.folder_id = :folder_id)
WHERE message_id IN (SELECT fm2.message_id FROM es_folder_message fm2 WHERE fm2.folder_id = :folder_id)
