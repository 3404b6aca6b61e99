INSERT INTO es_process (node_id, type_name, instance_no, desired_state, actual_state, restarts, refresh_seq, registered_at)
VALUES (:node_id, :type_name, :instance_no, 'STOPPED', 'STOPPED', 0, 0, :registered_at)
