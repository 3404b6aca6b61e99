INSERT INTO es_community (guid, community_name, net_protocol, description, created_at)
VALUES (:guid, :community_name, :net_protocol, :description, :created_at)
RETURNING community_id INTO :community_id
