INSERT INTO es_setting (setting_name, setting_value)
VALUES (:setting_name, :setting_value)
ON CONFLICT (setting_name) DO UPDATE SET setting_value = excluded.setting_value
