INSERT INTO es_node_domain (node_id, domain_id, subscribed_at) VALUES (:node_id, :domain_id, :subscribed_at)
