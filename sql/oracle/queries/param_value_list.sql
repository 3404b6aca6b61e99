SELECT v.param_name, v.param_value
FROM es_param_value v
WHERE v.node_id = :node_id AND v.type_name = :type_name AND v.instance_no = :instance_no
ORDER BY v.param_name
