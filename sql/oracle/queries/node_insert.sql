INSERT INTO es_node (guid, node_name, host_name, is_scn, sponsor_node_id, node_cost, description, created_at)
VALUES (:guid, :node_name, :host_name, :is_scn, :sponsor_node_id, :node_cost, :description, :created_at)
RETURNING node_id INTO :node_id
