SELECT setting_value FROM es_setting WHERE setting_name = :setting_name
