UPDATE es_param_default SET param_value = :param_value WHERE type_name = :type_name AND param_name = :param_name
