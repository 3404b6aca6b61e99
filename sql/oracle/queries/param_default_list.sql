SELECT type_name, param_name, param_kind, param_value, description
FROM es_param_default WHERE type_name = :type_name ORDER BY param_name
