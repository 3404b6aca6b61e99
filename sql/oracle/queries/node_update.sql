UPDATE es_node
SET host_name = :host_name, is_scn = :is_scn, sponsor_node_id = :sponsor_node_id,
    node_cost = :node_cost, description = :description
WHERE node_id = :node_id
