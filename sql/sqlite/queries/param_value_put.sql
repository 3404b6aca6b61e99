INSERT INTO es_param_value (node_id, type_name, instance_no, param_name, param_value)
VALUES (:node_id, :type_name, :instance_no, :param_name, :param_value)
ON CONFLICT (node_id, type_name, instance_no, param_name) DO UPDATE SET param_value = excluded.param_value
