INSERT INTO es_dir_change (guid, origin_node_id, operation, object_class, object_guid, domain_guid, before_values, after_values, changed_at)
VALUES (:guid, :origin_node_id, :operation, :object_class, :object_guid, :domain_guid, :before_values, :after_values, :changed_at)
