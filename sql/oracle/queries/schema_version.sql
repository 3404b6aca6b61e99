SELECT MAX(version) FROM es_schema_version
