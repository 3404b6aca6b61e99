MERGE INTO es_setting s
USING (SELECT :setting_name AS setting_name, :setting_value AS setting_value FROM dual) src
ON (s.setting_name = src.setting_name)
WHEN MATCHED THEN UPDATE SET s.setting_value = src.setting_value
WHEN NOT MATCHED THEN INSERT (setting_name, setting_value) VALUES (src.setting_name, src.setting_value)
