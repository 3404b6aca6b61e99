SELECT m.message_id, m.pointer_count, COUNT(fm.message_id) AS pointers
FROM es_message m
LEFT JOIN es_folder_message fm ON fm.message_id = m.message_id
GROUP BY m.message_id, m.pointer_count
HAVING m.pointer_count <> COUNT(fm.message_id)
ORDER BY m.message_id
