INSERT INTO es_dir_object (guid, domain_id, object_class, object_name, name_key, owner_scope, created_at, modified_at)
VALUES (:guid, :domain_id, :object_class, :object_name, :name_key, :owner_scope, :created_at, :modified_at)
RETURNING object_id INTO :object_id
