MERGE INTO es_param_value v
USING (SELECT :node_id AS node_id, :type_name AS type_name, :instance_no AS instance_no,
              :param_name AS param_name, :param_value AS param_value FROM dual) src
ON (v.node_id = src.node_id AND v.type_name = src.type_name AND v.instance_no = src.instance_no
    AND v.param_name = src.param_name)
WHEN MATCHED THEN UPDATE SET v.param_value = src.param_value
WHEN NOT MATCHED THEN INSERT (node_id, type_name, instance_no, param_name, param_value)
  VALUES (src.node_id, src.type_name, src.instance_no, src.param_name, src.param_value)
