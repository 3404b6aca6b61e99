SELECT n.node_id, n.guid, n.node_name, n.host_name, n.is_scn, s.node_name, n.node_cost, n.description, n.created_at
FROM es_node n LEFT JOIN es_node s ON s.node_id = n.sponsor_node_id
WHERE (:node_id = 0 OR n.node_id = :node_id)
ORDER BY n.node_name
